package buildopt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/stretchr/testify/require"
)

func TestParseSecretSource(t *testing.T) {
	cases := []struct {
		name    string
		value   string
		want    secretsprovider.Source
		wantErr string
	}{
		{name: "src file", value: "id=a,src=/f", want: secretsprovider.Source{ID: "a", FilePath: "/f"}},
		{name: "source alias", value: "id=a,source=/f", want: secretsprovider.Source{ID: "a", FilePath: "/f"}},
		{name: "env var", value: "id=a,env=VAR", want: secretsprovider.Source{ID: "a", Env: "VAR"}},
		{name: "type env with src", value: "id=a,type=env,src=VAR", want: secretsprovider.Source{ID: "a", Env: "VAR"}},
		{name: "type file", value: "id=a,type=file,src=/f", want: secretsprovider.Source{ID: "a", FilePath: "/f"}},
		{name: "id only", value: "id=a", want: secretsprovider.Source{ID: "a"}},
		{name: "keys lowercased", value: "ID=a,SRC=/f", want: secretsprovider.Source{ID: "a", FilePath: "/f"}},
		{name: "unknown key", value: "id=a,bogus=1", wantErr: "unexpected key 'bogus' in 'bogus=1'"},
		{name: "bad type", value: "id=a,type=nonsense", wantErr: `unsupported secret type "nonsense"`},
		{name: "field without equals", value: "id=a,plain", wantErr: "invalid field 'plain' must be a key=value pair"},
		{name: "bad csv", value: `id="a`, wantErr: `failed to parse csv secret: parse error on line 1, column 4: bare " in non-quoted-field`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSecretSource(tc.value)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseSecretStoreErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.txt")
	require.NoError(t, os.WriteFile(file, []byte("v"), 0o600))
	missing := filepath.Join(dir, "missing")

	t.Run("missing id", func(t *testing.T) {
		_, err := ParseSecret([]string{"src=" + file})
		require.EqualError(t, err, "secret missing ID")
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := ParseSecret([]string{"id=a,src=" + missing})
		require.EqualError(t, err, "failed to stat "+missing+": stat "+missing+": no such file or directory")
	})
	t.Run("valid file", func(t *testing.T) {
		p, err := ParseSecret([]string{"id=a,src=" + file})
		require.NoError(t, err)
		require.NotNil(t, p)
	})
}
