package buildopt

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/require"
)

// nopWriteCloser replaces stdout in tests.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func TestParseOutputErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "adir"), 0o755))

	cases := []struct {
		name     string
		value    string
		terminal bool
		wantErr  string
	}{
		{name: "bare dash", value: "-", wantErr: "invalid value -"},
		{name: "bare directory", value: "outdir", wantErr: "invalid value outdir"},
		{name: "missing type", value: "dest=out", wantErr: "--output requires type=<type>"},
		{name: "empty type", value: "type=", wantErr: "--output requires type=<type>"},
		{name: "empty value", value: "", wantErr: "EOF"},
		{name: "local without dest", value: "type=local", wantErr: "invalid output option: output: output directory is required for local exporter"},
		{name: "local with empty dest", value: "type=local,dest=", wantErr: "invalid output option: output: output directory is required for local exporter"},
		{name: "output key instead of dest", value: "type=tar,output=x.tar", wantErr: "output=x.tar not supported for --output, you meant dest=x.tar?"},
		{name: "dest for image exporter", value: "type=image,dest=foo", wantErr: "invalid output option: output: output foo is not supported by image exporter"},
		{name: "dest is a directory", value: "type=tar,dest=" + filepath.Join(dir, "adir"), wantErr: "invalid output option: output: destination file is a directory"},
		{name: "dest parent missing", value: "type=tar,dest=" + filepath.Join(dir, "nodir", "x.tar"), wantErr: "invalid output option: output: open " + filepath.Join(dir, "nodir", "x.tar") + ": no such file or directory"},
		{name: "bare quote", value: `type=image,name=a"b`, wantErr: `parse error on line 1, column 18: bare " in non-quoted-field`},
		{name: "unterminated quote", value: `type=image,"name=unterminated`, wantErr: `parse error on line 1, column 13: extraneous or missing " in quoted-field`},
		{name: "tar to terminal", value: "type=tar", terminal: true, wantErr: "invalid output option: output: output file is required for tar exporter. refusing to write to console"},
		{name: "docker dash to terminal", value: "type=docker,dest=-", terminal: true, wantErr: "invalid output option: output: output file is required for docker exporter. refusing to write to console"},
		{name: "oci to terminal", value: "type=oci,tar=true", terminal: true, wantErr: "invalid output option: output: output file is required for oci exporter. refusing to write to console"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout := Stdout{Writer: nopWriteCloser{io.Discard}, IsTerminal: tc.terminal}
			_, err := ParseOutput([]string{tc.value}, stdout)
			require.EqualError(t, err, tc.wantErr)
		})
	}
}

func TestParseOutputDestinations(t *testing.T) {
	dir := t.TempDir()
	stdout := Stdout{Writer: nopWriteCloser{io.Discard}}

	t.Run("tar without dest writes to stdout", func(t *testing.T) {
		entries, err := ParseOutput([]string{"type=tar"}, stdout)
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.NotNil(t, entries[0].Output)
		w, err := entries[0].Output(nil)
		require.NoError(t, err)
		require.Equal(t, stdout.Writer, w)
	})

	t.Run("dest dash writes to stdout", func(t *testing.T) {
		entries, err := ParseOutput([]string{"type=docker,name=example.com/a:1,dest=-"}, stdout)
		require.NoError(t, err)
		require.NotNil(t, entries[0].Output)
		require.Equal(t, map[string]string{"name": "example.com/a:1"}, entries[0].Attrs)
	})

	t.Run("tar file dest is created", func(t *testing.T) {
		path := filepath.Join(dir, "out.tar")
		entries, err := ParseOutput([]string{"type=tar,dest=" + path}, stdout)
		require.NoError(t, err)
		require.NotNil(t, entries[0].Output)
		require.Empty(t, entries[0].Attrs)
		require.FileExists(t, path)
	})

	t.Run("last repeated dest wins", func(t *testing.T) {
		first, second := filepath.Join(dir, "first.tar"), filepath.Join(dir, "second.tar")
		_, err := ParseOutput([]string{"type=tar,dest=" + first + ",dest=" + second}, stdout)
		require.NoError(t, err)
		require.NoFileExists(t, first)
		require.FileExists(t, second)
	})

	t.Run("oci with tar=false needs a directory", func(t *testing.T) {
		entries, err := ParseOutput([]string{"type=oci,tar=false,dest=" + dir}, stdout)
		require.NoError(t, err)
		require.Equal(t, dir, entries[0].OutputDir)
		require.Nil(t, entries[0].Output)
		require.Equal(t, map[string]string{"tar": "false"}, entries[0].Attrs)
	})

	t.Run("local dir and keys lowercased", func(t *testing.T) {
		entries, err := ParseOutput([]string{"TYPE=local,DEST=" + dir}, stdout)
		require.NoError(t, err)
		require.Equal(t, client.ExporterLocal, entries[0].Type)
		require.Equal(t, dir, entries[0].OutputDir)
	})

	t.Run("image keeps attributes", func(t *testing.T) {
		entries, err := ParseOutput([]string{`type=image,"name=a,b",push=true`}, stdout)
		require.NoError(t, err)
		require.Equal(t, "image", entries[0].Type)
		require.Equal(t, map[string]string{"name": "a,b", "push": "true"}, entries[0].Attrs)
		require.Nil(t, entries[0].Output)
		require.Empty(t, entries[0].OutputDir)
	})

	t.Run("several outputs keep their order", func(t *testing.T) {
		entries, err := ParseOutput([]string{"type=image", "type=local,dest=" + dir}, stdout)
		require.NoError(t, err)
		require.Len(t, entries, 2)
		require.Equal(t, "image", entries[0].Type)
		require.Equal(t, "local", entries[1].Type)
	})
}
