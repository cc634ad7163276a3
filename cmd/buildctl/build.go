package main

import (
	"context"

	"github.com/urfave/cli/v3"
)

// buildOptions holds the flags of the build command, as given.
type buildOptions struct {
	outputs                []string
	progress               string
	trace                  string
	locals                 []string
	ociLayouts             []string
	frontend               string
	frontendOpts           []string
	noCache                bool
	exportCaches           []string
	importCaches           []string
	secrets                []string
	allow                  []string
	ssh                    []string
	metadataFile           string
	sourcePolicyFile       string
	proxyNetwork           bool
	refFile                string
	registryAuthTLSContext []string
	cacheMetrics           string
}

func newBuildCommand(globals *globalOptions) *cli.Command {
	opts := &buildOptions{}
	return &cli.Command{
		Name:    "build",
		Aliases: []string{"b"},
		Usage:   "build",
		UsageText: `
	To build and push an image using Dockerfile:
	  $ buildctl build --frontend dockerfile.v0 --opt target=foo --opt build-arg:foo=bar --local context=. --local dockerfile=. --output type=image,name=docker.io/username/image,push=true
	`,
		Flags: buildFlags(opts),
		Action: func(ctx context.Context, _ *cli.Command) error {
			return runBuild(ctx, globals, opts)
		},
	}
}

// buildFlags declares the flags with the names, usage texts and defaults of
// BuildKit's buildctl v0.34.2.
func buildFlags(o *buildOptions) []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{
			Name:        "output",
			Aliases:     []string{"o"},
			Usage:       "Define exports for build result, e.g. --output type=image,name=docker.io/username/image,push=true",
			Destination: &o.outputs,
		},
		&cli.StringFlag{
			Name:        "progress",
			Usage:       "Set type of progress (auto, plain, tty, rawjson). Use plain to show container output",
			Value:       "auto",
			Destination: &o.progress,
		},
		&cli.StringFlag{
			Name:        "trace",
			Usage:       "Path to trace file. Defaults to no tracing.",
			Destination: &o.trace,
		},
		&cli.StringSliceFlag{
			Name:        "local",
			Usage:       "Allow build access to the local directory",
			Destination: &o.locals,
		},
		&cli.StringSliceFlag{
			Name:        "oci-layout",
			Usage:       "Allow build access to the local OCI layout",
			Destination: &o.ociLayouts,
		},
		&cli.StringFlag{
			Name:        "frontend",
			Usage:       "Define frontend used for build",
			Destination: &o.frontend,
		},
		&cli.StringSliceFlag{
			Name:        "opt",
			Usage:       "Define custom options for frontend, e.g. --opt target=foo --opt build-arg:foo=bar",
			Destination: &o.frontendOpts,
		},
		&cli.BoolFlag{
			Name:        "no-cache",
			Usage:       "Disable cache for all the vertices",
			Destination: &o.noCache,
		},
		&cli.StringSliceFlag{
			Name:        "export-cache",
			Usage:       "Export build cache, e.g. --export-cache type=registry,ref=example.com/foo/bar, or --export-cache type=local,dest=path/to/dir",
			Destination: &o.exportCaches,
		},
		&cli.StringSliceFlag{
			Name:        "import-cache",
			Usage:       "Import build cache, e.g. --import-cache type=registry,ref=example.com/foo/bar, or --import-cache type=local,src=path/to/dir",
			Destination: &o.importCaches,
		},
		&cli.StringSliceFlag{
			Name:        "secret",
			Usage:       "Secret value exposed to the build. Format id=secretname,src=filepath",
			Destination: &o.secrets,
		},
		&cli.StringSliceFlag{
			Name:        "allow",
			Usage:       "Allow extra privileged entitlement, e.g. network.host, security.insecure, device",
			Destination: &o.allow,
		},
		&cli.StringSliceFlag{
			Name:        "ssh",
			Usage:       "Allow forwarding SSH agent or a raw Unix socket to the builder. Format default|<id>[=<socket>[,raw=false]|<key>[,<key>]]",
			Destination: &o.ssh,
		},
		&cli.StringFlag{
			Name:        "metadata-file",
			Usage:       "Output build metadata (e.g., image digest) to a file as JSON",
			Destination: &o.metadataFile,
		},
		&cli.StringFlag{
			Name:        "source-policy-file",
			Usage:       "Read source policy file from a JSON file",
			Destination: &o.sourcePolicyFile,
		},
		&cli.BoolFlag{
			Name:        "proxy-network",
			Usage:       "Run build with proxy network enforcement",
			Destination: &o.proxyNetwork,
		},
		&cli.StringFlag{
			Name:        "ref-file",
			Usage:       "Write build ref to a file",
			Destination: &o.refFile,
		},
		&cli.StringSliceFlag{
			Name:        "registry-auth-tlscontext",
			Usage:       "Overwrite TLS configuration when authenticating with registries, e.g. --registry-auth-tlscontext host=https://myserver:2376,insecure=false,ca=/path/to/my/ca.crt,cert=/path/to/my/cert.crt,key=/path/to/my/key.crt",
			Destination: &o.registryAuthTLSContext,
		},
		&cli.StringFlag{
			Name:        "debug-json-cache-metrics",
			Usage:       "Where to output json cache metrics, use 'stdout' or 'stderr' for standard (error) output.",
			Destination: &o.cacheMetrics,
		},
	}
}
