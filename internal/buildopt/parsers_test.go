package buildopt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/stretchr/testify/require"
)

func TestParseSSH(t *testing.T) {
	cases := []struct {
		name    string
		values  []string
		want    []sshprovider.AgentConfig
		wantErr string
	}{
		{name: "default", values: []string{"default"}, want: []sshprovider.AgentConfig{{ID: "default"}}},
		{name: "paths", values: []string{"id=/a,/b"}, want: []sshprovider.AgentConfig{{ID: "id", Paths: []string{"/a", "/b"}}}},
		{name: "raw socket", values: []string{"id=/s,raw=true"}, want: []sshprovider.AgentConfig{{ID: "id", Paths: []string{"/s"}, Raw: true}}},
		{name: "raw needs one path", values: []string{"id=/a,/b,raw=true"}, wantErr: `raw mode must supply exactly one socket path for "id"`},
		{name: "bad raw value", values: []string{"id=/s,raw=x"}, wantErr: `invalid value for 'raw': x: strconv.ParseBool: parsing "x": invalid syntax`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSSH(tc.values)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseCache(t *testing.T) {
	env := map[string]string{
		"ACTIONS_CACHE_SERVICE_V2": "True",
		"ACTIONS_CACHE_URL":        "https://cache.example",
		"ACTIONS_RESULTS_URL":      "https://results.example",
		"ACTIONS_RUNTIME_TOKEN":    "tok",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	noEnv := func(string) (string, bool) { return "", false }

	t.Run("export registry default mode", func(t *testing.T) {
		got, err := ParseExportCache([]string{"type=registry,ref=example.com/foo"}, noEnv)
		require.NoError(t, err)
		require.Equal(t, []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "example.com/foo", "mode": "min"}}}, got)
	})
	t.Run("export legacy ref", func(t *testing.T) {
		got, err := ParseExportCache([]string{"example.com/foo"}, noEnv)
		require.NoError(t, err)
		require.Equal(t, []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "example.com/foo", "mode": "min"}}}, got)
	})
	t.Run("export mode kept", func(t *testing.T) {
		got, err := ParseExportCache([]string{"type=local,dest=/d,mode=max"}, noEnv)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"dest": "/d", "mode": "max"}, got[0].Attrs)
	})
	t.Run("export missing type", func(t *testing.T) {
		_, err := ParseExportCache([]string{"type=,ref=x"}, noEnv)
		require.EqualError(t, err, "--export-cache requires type=<type>")
	})
	t.Run("import legacy ref", func(t *testing.T) {
		got, err := ParseImportCache([]string{"example.com/foo"}, noEnv)
		require.NoError(t, err)
		require.Equal(t, []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "example.com/foo"}}}, got)
	})
	t.Run("import field without equals", func(t *testing.T) {
		_, err := ParseImportCache([]string{"type=local,src"}, noEnv)
		require.EqualError(t, err, "invalid value src")
	})
	t.Run("import gha from env", func(t *testing.T) {
		got, err := ParseImportCache([]string{"type=gha"}, lookup)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"url": "https://cache.example", "url_v2": "https://results.example", "token": "tok"}, got[0].Attrs)
	})
	t.Run("import gha without url", func(t *testing.T) {
		_, err := ParseImportCache([]string{"type=gha"}, noEnv)
		require.EqualError(t, err, "cache with type gha requires url parameter to be set")
	})
	t.Run("import gha without token", func(t *testing.T) {
		_, err := ParseImportCache([]string{"type=gha,url=https://u"}, noEnv)
		require.EqualError(t, err, "cache with type gha requires token parameter or $ACTIONS_RUNTIME_TOKEN")
	})
}

func TestParseRegistryAuthTLSContext(t *testing.T) {
	cases := []struct {
		name    string
		values  []string
		want    map[string]*authprovider.AuthTLSConfig
		wantErr string
	}{
		{
			name:   "ca and key pair",
			values: []string{"host=h,ca=/ca,cert=/c,key=/k"},
			want:   map[string]*authprovider.AuthTLSConfig{"h": {RootCAs: []string{"/ca"}, KeyPairs: []authprovider.TLSKeyPair{{Key: "/k", Certificate: "/c"}}}},
		},
		{
			name:   "insecure only",
			values: []string{"host=h,insecure=true"},
			want:   map[string]*authprovider.AuthTLSConfig{"h": {Insecure: true}},
		},
		{
			name:   "same host adds up",
			values: []string{"host=h,ca=/a", "host=h,ca=/b"},
			want:   map[string]*authprovider.AuthTLSConfig{"h": {RootCAs: []string{"/a", "/b"}}},
		},
		{name: "missing host", values: []string{"ca=/a"}, wantErr: "--registry-auth-tlscontext requires host=<host>"},
		{name: "nothing to trust", values: []string{"host=h"}, wantErr: "--registry-auth-tlscontext requires ca=<ca> or cert=<cert>,key=<key> or insecure=true"},
		{name: "cert without key", values: []string{"host=h,ca=/a,cert=/c"}, wantErr: "--registry-auth-tlscontext requires cert=<cert>,key=<key>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRegistryAuthTLSContext(tc.values)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseLocalAndOCILayout(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))

	t.Run("local dirs", func(t *testing.T) {
		got, err := ParseLocal([]string{"context=" + dir, "dockerfile=" + dir})
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Contains(t, got, "context")
		require.Contains(t, got, "dockerfile")
	})
	t.Run("local without equals", func(t *testing.T) {
		_, err := ParseLocal([]string{"context"})
		require.EqualError(t, err, "invalid value context")
	})
	t.Run("local missing dir", func(t *testing.T) {
		_, err := ParseLocal([]string{"context=" + filepath.Join(dir, "nope")})
		require.EqualError(t, err, "resolve : lstat "+filepath.Join(dir, "nope")+": no such file or directory")
	})
	t.Run("local is a file", func(t *testing.T) {
		_, err := ParseLocal([]string{"context=" + file})
		require.EqualError(t, err, "stat "+file+": not a directory")
	})
	t.Run("oci layout store", func(t *testing.T) {
		got, err := ParseOCILayout([]string{"store=" + dir})
		require.NoError(t, err)
		require.Contains(t, got, "store")
	})
	t.Run("oci layout without equals", func(t *testing.T) {
		_, err := ParseOCILayout([]string{"store"})
		require.EqualError(t, err, "oci-layout option must be 'id=path/to/layout', instead had invalid store")
	})
}

func TestValidateAllow(t *testing.T) {
	require.NoError(t, ValidateAllow([]string{"network.host", "security.insecure"}))
	require.EqualError(t, ValidateAllow([]string{"bogus"}), "unknown entitlement bogus")
}

func TestReadSourcePolicy(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"rules":[{"action":"DENY","selector":{"identifier":"docker-image://*"}}]}`), 0o644))
	require.NoError(t, os.WriteFile(bad, []byte(`{`), 0o644))

	t.Run("no path", func(t *testing.T) {
		p, err := ReadSourcePolicy("")
		require.NoError(t, err)
		require.Nil(t, p)
	})
	t.Run("valid file", func(t *testing.T) {
		p, err := ReadSourcePolicy(good)
		require.NoError(t, err)
		require.Len(t, p.Rules, 1)
	})
	t.Run("invalid json", func(t *testing.T) {
		_, err := ReadSourcePolicy(bad)
		require.ErrorContains(t, err, `failed to unmarshal source-policy-file "`+bad+`"`)
	})
}
