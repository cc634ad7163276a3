// Package metadatadump prints the bolt databases in which buildkitd keeps
// cache metadata (<root>/<worker>/metadata_v2.db), in the layout of BuildKit
// v0.34.2's "buildctl debug dump-metadata". buildkitd holds an exclusive lock
// on these files while it runs, so they can only be read when it is stopped.
package metadatadump

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// dbName is the metadata file name in each worker's state directory.
const dbName = "metadata_v2.db"

// lockTimeout bounds the wait for the lock of a database that buildkitd
// still holds. After it, bolt returns its timeout error.
const lockTimeout = 3 * time.Second

// FindDatabases returns the metadata database of every direct subdirectory
// of root that has one, in directory-name order.
func FindDatabases(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, entry := range entries {
		if !entry.IsDir() {
			continue
		}
		p := filepath.Join(root, entry.Name(), dbName)
		_, err := os.Stat(p)
		if err == nil {
			files = append(files, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return files, nil
}

// DumpAll writes a "===== path =====" header and the contents of each
// database in files. It stops at the first database that fails to open.
func DumpAll(w io.Writer, files []string) error {
	for _, file := range files {
		fmt.Fprintf(w, "===== %s =====\n", file)
		if err := Dump(w, file); err != nil {
			return err
		}
	}
	return nil
}

// Dump opens the database at path read-only and writes every bucket, nested
// buckets indented by two spaces per level, with each key and value as
// `"key": value`. Keys are quoted Go strings and values are written raw.
func Dump(w io.Writer, path string) error {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return dumpBucket(w, name, b, "")
		})
	})
}

func dumpBucket(w io.Writer, name []byte, b *bolt.Bucket, indent string) error {
	fmt.Fprintf(w, "%sbucket %q:\n", indent, string(name))
	childIndent := indent + "  "
	return b.ForEach(func(k, v []byte) error {
		if child := b.Bucket(k); child != nil {
			return dumpBucket(w, k, child, childIndent)
		}
		fmt.Fprintf(w, "%s%q: %s\n", childIndent, string(k), string(v))
		return nil
	})
}
