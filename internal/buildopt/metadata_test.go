package buildopt

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/stretchr/testify/require"
)

func TestMarshalMetadataGolden(t *testing.T) {
	descriptor := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":1,"platform":{"architecture":"amd64","os":"linux"}}`
	response := map[string]string{
		"containerimage.digest":     "sha256:aa",
		"containerimage.descriptor": base64.StdEncoding.EncodeToString([]byte(descriptor)),
		"image.name":                "example.com/meta:1",
		// base64 of "{}": an empty object stays a string.
		"empty.object": base64.StdEncoding.EncodeToString([]byte("{}")),
		// base64 of a JSON array: only objects are embedded.
		"array": base64.StdEncoding.EncodeToString([]byte("[1]")),
	}
	got, err := MarshalMetadata(response)
	require.NoError(t, err)

	want, err := os.ReadFile(filepath.Join("testdata", "metadata.golden.json"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

func TestReadDefinition(t *testing.T) {
	st := llb.Scratch().File(llb.Mkfile("/a", 0o644, []byte("x")))
	def, err := st.Marshal(t.Context())
	require.NoError(t, err)
	data, err := def.ToPB().MarshalVT()
	require.NoError(t, err)

	t.Run("keeps cache", func(t *testing.T) {
		r, err := os.CreateTemp(t.TempDir(), "def")
		require.NoError(t, err)
		require.NoError(t, llb.WriteTo(def, r))
		_, err = r.Seek(0, 0)
		require.NoError(t, err)
		got, err := ReadDefinition(r, false)
		require.NoError(t, err)
		require.Len(t, got.Def, len(def.Def))
		for _, md := range got.Metadata {
			require.False(t, md.IgnoreCache)
		}
	})
	t.Run("no-cache marks every op", func(t *testing.T) {
		r, err := os.CreateTemp(t.TempDir(), "def")
		require.NoError(t, err)
		_, err = r.Write(data)
		require.NoError(t, err)
		_, err = r.Seek(0, 0)
		require.NoError(t, err)
		got, err := ReadDefinition(r, true)
		require.NoError(t, err)
		require.NotEmpty(t, got.Metadata)
		for _, md := range got.Metadata {
			require.True(t, md.IgnoreCache)
		}
	})
	t.Run("empty input", func(t *testing.T) {
		r, err := os.Open(os.DevNull)
		require.NoError(t, err)
		defer r.Close()
		_, err = ReadDefinition(r, false)
		require.EqualError(t, err, "empty definition sent to build. Specify --frontend instead?")
	})
}
