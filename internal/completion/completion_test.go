package completion

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v3"
)

func testTree() *cli.Command {
	return &cli.Command{
		Name: "buildctl",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Usage: "buildkitd address"},
			&cli.BoolFlag{Name: "debug"},
		},
		Commands: []*cli.Command{
			{Name: "build", Aliases: []string{"b"}, Usage: "build", Flags: []cli.Flag{
				&cli.StringFlag{Name: "progress"},
				&cli.StringFlag{Name: "frontend"},
				&cli.StringSliceFlag{Name: "output", Aliases: []string{"o"}},
				&cli.StringSliceFlag{Name: "local"},
				&cli.StringSliceFlag{Name: "secret"},
				&cli.StringFlag{Name: "metadata-file"},
				&cli.BoolFlag{Name: "no-cache"},
			}},
			{Name: "debug", Usage: "debug utilities", Commands: []*cli.Command{
				{Name: "dump-llb", Usage: "dump LLB"},
			}},
			{Name: "hidden", Hidden: true},
		},
	}
}

func values(candidates []Candidate) []string {
	out := []string{}
	for _, c := range candidates {
		out = append(out, c.Value)
	}
	return out
}

func TestComplete(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "ctx"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cfile"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o644))

	for _, tc := range []struct {
		name  string
		words []string
		want  []string
	}{
		{"top-level commands", []string{""}, []string{"build", "debug"}},
		{"command prefix", []string{"d"}, []string{"debug"}},
		{"nested commands", []string{"debug", ""}, []string{"dump-llb"}},
		{"flags with parents", []string{"build", "--"}, []string{"--progress", "--frontend", "--output", "--local", "--secret", "--metadata-file", "--no-cache", "--addr", "--debug"}},
		{"flag prefix", []string{"--a"}, []string{"--addr"}},
		{"progress modes", []string{"build", "--progress", ""}, []string{"auto", "plain", "tty", "rawjson", "quiet"}},
		{"progress inline", []string{"build", "--progress=r"}, []string{"--progress=rawjson"}},
		{"alias command", []string{"b", "--frontend", "d"}, []string{"dockerfile.v0"}},
		{"after bool flag", []string{"build", "--no-cache", "--frontend", "g"}, []string{"gateway.v0"}},
		{"output types", []string{"build", "--output", "type=l"}, []string{"type=local"}},
		{"output keys of type", []string{"build", "-o", "type=local,"}, []string{"type=local,dest=", "type=local,platform-split="}},
		{"output dest path", []string{"build", "--output", "type=tar,dest=" + dir + "/c"}, []string{"type=tar,dest=" + dir + "/ctx/", "type=tar,dest=" + dir + "/cfile"}},
		{"local names", []string{"build", "--local", "d"}, []string{"dockerfile="}},
		{"local dirs only", []string{"build", "--local", "context=" + dir + "/"}, []string{"context=" + dir + "/ctx/"}},
		{"secret keys", []string{"build", "--secret", "id=x,s"}, []string{"id=x,src="}},
		{"secret src file", []string{"build", "--secret", "id=x,src=" + dir + "/cf"}, []string{"id=x,src=" + dir + "/cfile"}},
		{"metadata file", []string{"build", "--metadata-file", dir + "/"}, []string{dir + "/cfile", dir + "/ctx/"}},
		{"hidden files on dot", []string{"build", "--metadata-file", dir + "/."}, []string{dir + "/.hidden"}},
		{"llb file argument", []string{"debug", "dump-llb", dir + "/cf"}, []string{dir + "/cfile"}},
		{"unknown flag value", []string{"--addr", ""}, []string{}},
		{"after double dash", []string{"build", "--", "--pro"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := values(Complete(testTree(), tc.words))
			require.ElementsMatch(t, tc.want, got)
		})
	}
}

func TestScriptNamesProgram(t *testing.T) {
	for _, shell := range Shells {
		t.Run(shell, func(t *testing.T) {
			script, err := Script(shell, "my-ctl")
			require.NoError(t, err)
			require.Contains(t, script, "my-ctl __complete")
			require.Contains(t, script, "__my_ctl_complete")
			require.NotContains(t, script, "@PROG@")
		})
	}
	_, err := Script("pwsh", "buildctl")
	require.Error(t, err)
}
