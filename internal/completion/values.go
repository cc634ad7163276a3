package completion

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"
)

// pathKind selects what path completion lists.
type pathKind int

const (
	noPaths pathKind = iota
	filesAndDirs
	dirsOnly
)

// csvSpec describes a flag whose value is a comma-separated list of
// key=value attributes, such as --output type=local,dest=out.
type csvSpec struct {
	// keys are offered, each with "=", for a segment without "=". keysByType
	// adds the keys of the chosen type= value.
	keys       []string
	keysByType map[string][]string
	// values completes the text after "key=" for the keys it lists.
	values map[string][]string
	// paths completes the text after "key=" with paths for the keys it lists.
	paths map[string]pathKind
}

var imageKeys = []string{"name", "push", "push-by-digest", "insecure", "unpack", "store",
	"dangling-name-prefix", "name-canonical", "compression", "compression-level",
	"force-compression", "oci-mediatypes", "oci-artifact", "rewrite-timestamp", "annotation"}

var ociKeys = []string{"dest", "name", "tar", "compression", "compression-level",
	"force-compression", "oci-mediatypes", "oci-artifact", "rewrite-timestamp", "annotation"}

var boolValues = []string{"true", "false"}

// csvFlags are the attribute-list flags of buildctl build, by flag name.
var csvFlags = map[string]csvSpec{
	"output": {
		keys: []string{"type"},
		keysByType: map[string][]string{
			"image":    imageKeys,
			"registry": imageKeys,
			"oci":      ociKeys,
			"docker":   ociKeys,
			"local":    {"dest", "platform-split"},
			"tar":      {"dest", "platform-split"},
		},
		values: map[string][]string{
			"type":              {"image", "registry", "local", "tar", "oci", "docker"},
			"push":              boolValues,
			"unpack":            boolValues,
			"store":             boolValues,
			"tar":               boolValues,
			"oci-mediatypes":    boolValues,
			"force-compression": boolValues,
			"platform-split":    boolValues,
			"compression":       {"gzip", "estargz", "zstd", "uncompressed"},
		},
		paths: map[string]pathKind{"dest": filesAndDirs},
	},
	"export-cache": {
		keys: []string{"type", "ref", "dest", "mode", "compression", "oci-mediatypes", "image-manifest", "ignore-error"},
		values: map[string][]string{
			"type": {"registry", "inline", "local", "gha", "s3", "azblob"},
			"mode": {"min", "max"},
		},
		paths: map[string]pathKind{"dest": dirsOnly},
	},
	"import-cache": {
		keys:   []string{"type", "ref", "src", "digest", "tag"},
		values: map[string][]string{"type": {"registry", "local", "gha", "s3", "azblob"}},
		paths:  map[string]pathKind{"src": dirsOnly},
	},
	"secret": {
		keys:   []string{"id", "src", "env", "type"},
		values: map[string][]string{"type": {"file", "env"}},
		paths:  map[string]pathKind{"src": filesAndDirs, "source": filesAndDirs},
	},
	"registry-auth-tlscontext": {
		keys:   []string{"host", "insecure", "ca", "cert", "key"},
		values: map[string][]string{"insecure": boolValues},
		paths:  map[string]pathKind{"ca": filesAndDirs, "cert": filesAndDirs, "key": filesAndDirs},
	},
}

// namedPathFlags take name=path values, such as --local context=. .
var namedPathFlags = map[string][]string{
	"local":      {"context", "dockerfile"},
	"oci-layout": nil,
}

// wordFlags take one of a fixed set of words.
var wordFlags = map[string][]string{
	"progress":                 {"auto", "plain", "tty", "rawjson", "quiet"},
	"log-format":               {"json", "text"},
	"frontend":                 {"dockerfile.v0", "gateway.v0"},
	"allow":                    {"network.host", "security.insecure", "device"},
	"debug-json-cache-metrics": {"stdout", "stderr"},
}

// pathFlags take a path.
var pathFlags = map[string]pathKind{
	"metadata-file":            filesAndDirs,
	"ref-file":                 filesAndDirs,
	"trace":                    filesAndDirs,
	"source-policy-file":       filesAndDirs,
	"debug-json-cache-metrics": filesAndDirs,
	"tlscacert":                filesAndDirs,
	"tlscert":                  filesAndDirs,
	"tlskey":                   filesAndDirs,
	"tlsdir":                   dirsOnly,
	"root":                     dirsOnly,
}

// completeValue returns candidates for value, the text typed so far for
// flag. Each candidate starts with prefix, which is "--flag=" when the value
// is typed in the same word as the flag and "" otherwise.
func completeValue(flag, prefix, value string) []Candidate {
	var values []string
	if spec, ok := csvFlags[flag]; ok {
		values = completeCSV(spec, value)
	} else if names, ok := namedPathFlags[flag]; ok {
		values = completeNamedPath(names, value)
	} else {
		values = filterPrefix(wordFlags[flag], value)
		if kind, ok := pathFlags[flag]; ok {
			values = append(values, completePaths(value, kind)...)
		}
	}
	out := make([]Candidate, 0, len(values))
	for _, v := range values {
		out = append(out, Candidate{Value: prefix + v})
	}
	return out
}

// completeArgument returns candidates for a positional argument of cmd.
func completeArgument(cmd *cli.Command, current string) []Candidate {
	if cmd.Name != "dump-llb" {
		return nil
	}
	var out []Candidate
	for _, p := range completePaths(current, filesAndDirs) {
		out = append(out, Candidate{Value: p})
	}
	return out
}

func completeCSV(spec csvSpec, value string) []string {
	head := ""
	last := value
	if i := strings.LastIndex(value, ","); i >= 0 {
		head, last = value[:i+1], value[i+1:]
	}

	var out []string
	if key, typed, ok := strings.Cut(last, "="); ok {
		out = filterPrefix(spec.values[key], typed)
		if kind, ok := spec.paths[key]; ok {
			out = append(out, completePaths(typed, kind)...)
		}
		return prepend(head+key+"=", out)
	}

	keys := append([]string(nil), spec.keys...)
	keys = append(keys, spec.keysByType[chosenType(head)]...)
	for _, k := range filterPrefix(keys, last) {
		if !strings.Contains(","+head, ","+k+"=") {
			out = append(out, k+"=")
		}
	}
	return prepend(head, out)
}

// chosenType returns the value of the type= attribute in a
// comma-terminated attribute list, or "".
func chosenType(head string) string {
	for _, field := range strings.Split(head, ",") {
		if v, ok := strings.CutPrefix(field, "type="); ok {
			return v
		}
	}
	return ""
}

func completeNamedPath(names []string, value string) []string {
	name, path, ok := strings.Cut(value, "=")
	if !ok {
		var out []string
		for _, n := range filterPrefix(names, value) {
			out = append(out, n+"=")
		}
		return out
	}
	return prepend(name+"=", completePaths(path, dirsOnly))
}

// completePaths lists the entries of the directory that typed names which
// start with its last element. Directories end with "/" so that completion
// can continue into them. Hidden entries are listed only when the typed
// element starts with ".".
func completePaths(typed string, kind pathKind) []string {
	if kind == noPaths {
		return nil
	}
	dir, base := "", typed
	if i := strings.LastIndex(typed, "/"); i >= 0 {
		dir, base = typed[:i+1], typed[i+1:]
	}
	readDir := dir
	if readDir == "" {
		readDir = "."
	}
	entries, err := os.ReadDir(expandHome(readDir))
	if err != nil {
		return nil
	}

	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if info, err := os.Stat(filepath.Join(expandHome(readDir), name)); err == nil {
				isDir = info.IsDir()
			}
		}
		switch {
		case isDir:
			out = append(out, dir+name+"/")
		case kind == filesAndDirs:
			out = append(out, dir+name)
		}
	}
	return out
}

// expandHome replaces a leading "~/" with the home directory, as the shell
// would before running the command.
func expandHome(p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, rest) + "/"
}

func filterPrefix(words []string, prefix string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}

func prepend(prefix string, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = prefix + v
	}
	return out
}
