package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactArgs(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "tlskey separate",
			args: []string{"buildctl", "--tlskey", "/k.pem", "du"},
			want: []string{"buildctl", "--tlskey", "<redacted>", "du"},
		},
		{
			name: "tlskey joined",
			args: []string{"buildctl", "--tlskey=/k.pem", "du"},
			want: []string{"buildctl", "--tlskey=<redacted>", "du"},
		},
		{
			name: "tlscontext key field",
			args: []string{"build", "--registry-auth-tlscontext", "host=r,cert=/c.pem,key=/k.pem,insecure=false"},
			want: []string{"build", "--registry-auth-tlscontext", "host=r,cert=/c.pem,key=<redacted>,insecure=false"},
		},
		{
			name: "tlscontext joined and quoted",
			args: []string{"build", `--registry-auth-tlscontext=host=r,"key=/a,b.pem"`, "KEY=x"},
			want: []string{"build", `--registry-auth-tlscontext=host=r,"key=<redacted>"`, "KEY=x"},
		},
		{
			name: "other flags kept",
			args: []string{"build", "--secret", "id=key,src=/s", "--opt", "key=v"},
			want: []string{"build", "--secret", "id=key,src=/s", "--opt", "key=v"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]string(nil), tc.args...)
			require.Equal(t, tc.want, redactArgs(tc.args))
			require.Equal(t, orig, tc.args, "input changed")
		})
	}
}
