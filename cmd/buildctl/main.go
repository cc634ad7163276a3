// Command buildctl is a drop-in replacement for BuildKit's buildctl client.
//
// This file wires the application: global flags, logging set-up and the one
// place where errors are printed. Each subcommand lives in its own file and
// only declares flags, fills an options struct and calls into internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer"
	_ "github.com/moby/buildkit/client/connhelper/npipe"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/sourcepolicy/policysession"
	"github.com/moby/buildkit/util/apicaps"
	"github.com/moby/buildkit/util/appcontext"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto"
	"github.com/moby/buildkit/util/profiler"
	"github.com/moby/buildkit/util/stack"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"

	"github.com/buildhost/buildctl/internal/connect"
	"github.com/buildhost/buildctl/internal/tracing"
	"github.com/buildhost/buildctl/internal/version"
)

func init() {
	// The daemon reports capabilities per product. BuildKit's own client
	// announces itself as "buildkit", and so must a drop-in.
	apicaps.ExportedProduct = "buildkit"
	stack.SetVersionInfo(version.Version(), version.Revision())
}

func main() {
	app, globals := newApp()
	ctx := appcontext.Context()
	provider, err := tracing.New(ctx)
	if err != nil {
		os.Exit(printError(os.Stderr, false, err))
	}
	traceCommands(app, provider)

	err = app.Run(ctx, os.Args)
	// BuildKit's buildctl flushes the spans in its After hook, and urfave/cli
	// adds a failure there to the command's error.
	if finishErr := provider.Finish(err); finishErr != nil {
		err = errors.Join(err, finishErr)
	}
	// The flush above sends spans over the clients' connections, so they
	// close only now. BuildKit's buildctl leaves them open until it exits,
	// and a failed close changes neither its output nor its exit code.
	if closeErr := connect.Close(); closeErr != nil {
		logrus.WithError(closeErr).Debug("closing the buildkitd connection failed")
	}
	os.Exit(printError(os.Stderr, globals.debug, connect.Explain(err)))
}

// globalOptions holds the flags that come before the subcommand.
type globalOptions struct {
	debug     bool
	logFormat string
	conn      connect.Options
}

// newApp builds the command tree. The returned options are filled in when
// the application's Before hook runs.
func newApp() (*cli.Command, *globalOptions) {
	globals := &globalOptions{}
	cli.VersionPrinter = func(cmd *cli.Command) {
		fmt.Fprintln(cmd.Root().Writer, cmd.Name, version.Module(), cmd.Version, version.Revision())
	}

	app := &cli.Command{
		Name:                  "buildctl",
		Usage:                 "build utility",
		Version:               version.Version(),
		EnableShellCompletion: true,
		Flags:                 globalFlags(globals),
		Commands: []*cli.Command{
			newDiskUsageCommand(globals),
			newPruneCommand(globals),
			newPruneHistoriesCommand(globals),
			newBuildCommand(globals),
			newDebugCommand(globals),
			newDialStdioCommand(globals),
		},
		Before: func(ctx context.Context, cmd *cli.Command) (context.Context, error) {
			globals.conn.AddressFromFlag = cmd.IsSet("addr")
			return ctx, setUpLogging(globals)
		},
	}
	configureCompletion(app)
	disableSliceFlagSeparator(app)
	// Hidden --profile-* flags, as BuildKit's buildctl has them. Attach wraps
	// Before, so it must come after Before is set.
	profiler.Attach(app)
	return app, globals
}

func globalFlags(g *globalOptions) []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{
			Name:        "debug",
			Usage:       "enable debug output in logs",
			Destination: &g.debug,
		},
		&cli.StringFlag{
			Name:        "addr",
			Usage:       "buildkitd address",
			Value:       connect.DefaultAddress(),
			Destination: &g.conn.Address,
		},
		&cli.StringFlag{
			Name:        "log-format",
			Usage:       "log formatter: json or text",
			Value:       "text",
			Destination: &g.logFormat,
		},
		&cli.StringFlag{
			Name:        "tlsservername",
			Usage:       "buildkitd server name for certificate validation",
			Destination: &g.conn.TLSServerName,
		},
		&cli.StringFlag{
			Name:        "tlscacert",
			Usage:       "CA certificate for validation",
			Destination: &g.conn.TLSCACert,
		},
		&cli.StringFlag{
			Name:        "tlscert",
			Usage:       "client certificate",
			Destination: &g.conn.TLSCert,
		},
		&cli.StringFlag{
			Name:        "tlskey",
			Usage:       "client key",
			Destination: &g.conn.TLSKey,
		},
		&cli.StringFlag{
			Name:        "tlsdir",
			Usage:       "directory containing CA certificate, client certificate, and client key. Supported file names are (ca.pem, cert.pem, key.pem) or (ca.crt, tls.crt, tls.key)",
			Destination: &g.conn.TLSDir,
		},
		&cli.IntFlag{
			Name:        "timeout",
			Usage:       "timeout backend connection after value seconds",
			Value:       5,
			Destination: &g.conn.TimeoutSeconds,
		},
		&cli.BoolFlag{
			Name:        "wait",
			Usage:       "block RPCs until the connection becomes available",
			Destination: &g.conn.Wait,
		},
	}
}

func setUpLogging(g *globalOptions) error {
	switch g.logFormat {
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	case "text", "":
		logrus.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	default:
		return fmt.Errorf("unsupported log type %q", g.logFormat)
	}
	if g.debug {
		logrus.SetLevel(logrus.DebugLevel)
	}
	return nil
}

// printError writes err the way BuildKit's buildctl does and returns the exit
// code: source snippets of a failed Dockerfile line first, then policy denials,
// then one "error: ..." line (the full stack with --debug).
func printError(w io.Writer, debug bool, err error) int {
	if err == nil {
		return 0
	}
	for _, src := range errdefs.Sources(err) {
		src.Print(w)
	}
	for _, msg := range policysession.DenyMessages(err) {
		if msg.GetMessage() != "" {
			fmt.Fprintf(w, "policy deny: %s\n", msg.GetMessage())
		}
	}
	if debug {
		defer redactStackCmdlines(err)()
		fmt.Fprintf(w, "error: %+v", stack.Formatter(err))
	} else {
		fmt.Fprintf(w, "error: %v\n", err)
	}
	return 1
}

// disableSliceFlagSeparator keeps values such as "type=image,name=x" whole in
// repeatable flags, on every command of the tree.
func disableSliceFlagSeparator(cmd *cli.Command) {
	cmd.DisableSliceFlagSeparator = true
	for _, sub := range cmd.Commands {
		disableSliceFlagSeparator(sub)
	}
}
