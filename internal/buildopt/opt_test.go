package buildopt

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseOpt(t *testing.T) {
	cases := []struct {
		name    string
		values  []string
		env     map[string]string
		want    map[string]string
		wantErr string
	}{
		{
			name:   "commas and equals signs kept",
			values: []string{"build-arg:LIST=a,b,c", "build-arg:KV=key=value=more", `build-arg:Q="x, y"`},
			want:   map[string]string{"build-arg:LIST": "a,b,c", "build-arg:KV": "key=value=more", "build-arg:Q": `"x, y"`},
		},
		{
			name:   "empty value kept",
			values: []string{"build-arg:EMPTY="},
			env:    map[string]string{"EMPTY": "from-env"},
			want:   map[string]string{"build-arg:EMPTY": ""},
		},
		{
			name:   "bare build arg read from env",
			values: []string{"build-arg:FROM_ENV"},
			env:    map[string]string{"FROM_ENV": "v"},
			want:   map[string]string{"build-arg:FROM_ENV": "v"},
		},
		{
			name:   "bare build arg unset is dropped",
			values: []string{"build-arg:NOT_SET"},
			want:   map[string]string{},
		},
		{
			name:   "unset bare build arg keeps earlier value",
			values: []string{"build-arg:A=x", "build-arg:A"},
			want:   map[string]string{"build-arg:A": "x"},
		},
		{
			name:   "last repeated key wins",
			values: []string{"build-arg:R=first", "build-arg:R=second"},
			want:   map[string]string{"build-arg:R": "second"},
		},
		{
			name: "SOURCE_DATE_EPOCH propagated",
			env:  map[string]string{"SOURCE_DATE_EPOCH": "1700000000"},
			want: map[string]string{"build-arg:SOURCE_DATE_EPOCH": "1700000000"},
		},
		{
			name:   "explicit SOURCE_DATE_EPOCH wins",
			values: []string{"build-arg:SOURCE_DATE_EPOCH=1"},
			env:    map[string]string{"SOURCE_DATE_EPOCH": "1700000000"},
			want:   map[string]string{"build-arg:SOURCE_DATE_EPOCH": "1"},
		},
		{
			name:    "key without value",
			values:  []string{"justakey"},
			wantErr: "invalid value justakey",
		},
		{
			name:    "build arg without name",
			values:  []string{"build-arg:"},
			wantErr: "invalid value build-arg:",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) {
				v, ok := tc.env[k]
				return v, ok
			}
			got, err := ParseOpt(tc.values, lookup)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
