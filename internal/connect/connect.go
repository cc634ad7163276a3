// Package connect turns the global connection flags into a BuildKit client.
// It is the only caller of client.New in this module.
package connect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/appdefaults"
	"github.com/sirupsen/logrus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/buildhost/buildctl/internal/address"
	"github.com/buildhost/buildctl/internal/tracing"
)

// Options holds the global flags that select and secure the daemon connection.
type Options struct {
	// Address is the --addr value, or its default when the flag was not given.
	Address string
	// AddressFromFlag reports whether --addr was given on the command line.
	AddressFromFlag bool

	TLSServerName string
	TLSCACert     string
	TLSCert       string
	TLSKey        string
	TLSDir        string

	// TimeoutSeconds bounds establishing the connection; zero or less means no bound.
	TimeoutSeconds int
	// Wait blocks until the daemon responds instead of failing at once.
	Wait bool
}

// DefaultAddress returns BUILDKIT_HOST when set, else BuildKit's default socket.
// It is the default shown for --addr in the help text, as BuildKit's buildctl shows it.
func DefaultAddress() string {
	if addr := os.Getenv("BUILDKIT_HOST"); addr != "" {
		return addr
	}
	return appdefaults.Address
}

// New returns a client for the daemon that opts select. The caller does not
// close it: Close closes every client that New returned, once the process
// has sent its trace.
//
// The address comes from --addr, then BUILDKIT_HOST, then discovery (see
// package address). When the plan has fallback candidates, each is probed in
// order and the first that responds is used. When none responds, the client
// is still returned for the first address, so the command's own call fails
// with BuildKit's wording; Explain then adds why each address failed.
func New(ctx context.Context, opts Options) (*client.Client, error) {
	c, err := newClient(ctx, opts)
	if c != nil {
		keep(c)
	}
	return c, err
}

func newClient(ctx context.Context, opts Options) (*client.Client, error) {
	clientOpts, files, err := tlsClientOpts(opts)
	if err != nil {
		return nil, err
	}
	clientOpts = append(tracing.ClientOptions(ctx), clientOpts...)

	timeout := time.Duration(opts.TimeoutSeconds) * time.Second
	if timeout < 0 {
		timeout = 0
	}
	plan := address.NewPlan(opts.Address, opts.AddressFromFlag, address.EnvFromOS())
	if !plan.Fallback() {
		addr := plan.Addresses[0]
		contact := &contactTracker{}
		dialOpts := append(slices.Clip(withConnectTimeout(clientOpts, addr, timeout)), contact.clientOpts()...)
		p := &prober{clientOpts: dialOpts, timeout: timeout, tls: files.given()}
		c, err := dial(ctx, addr, opts.Wait, p)
		rec := &attemptRecord{addresses: plan.Addresses, source: plan.Source, prober: p, newErr: err, contact: contact}
		// client.New loads the TLS files before it dials, and fails with
		// BuildKit's wording naming the file. No daemon was involved then.
		rec.localFileErr = err != nil && files.load() != nil
		record(rec)
		return c, err
	}
	return dialFirstAnswering(ctx, plan, opts.Wait, clientOpts, timeout, files.given())
}

// dial connects to addr the way BuildKit's buildctl does: the timeout bounds
// creating the client and, with wait, waiting for the daemon.
func dial(ctx context.Context, addr string, wait bool, p *prober) (*client.Client, error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}

	c, err := client.New(ctx, addr, p.clientOpts...)
	if err != nil {
		return nil, err
	}
	if wait {
		if err := c.Wait(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// dialFirstAnswering probes the plan's addresses in order and returns a
// client for the first that responds. With wait, it probes again every second
// until one responds or the timeout expires, and the timeout bounds the whole
// wait, as it bounds BuildKit's buildctl waiting on its one address.
func dialFirstAnswering(ctx context.Context, plan address.Plan, wait bool, clientOpts []client.ClientOpt, timeout time.Duration, useTLS bool) (*client.Client, error) {
	first := plan.Addresses[0]
	p := &prober{clientOpts: withConnectTimeout(clientOpts, first, timeout), timeout: timeout, tls: useTLS}
	probe := func(ctx context.Context, addr string) error {
		err := p.probe(ctx, addr)
		logAttempt(addr, err)
		return err
	}

	if !wait {
		chosen, attempts := address.Find(ctx, plan.Addresses, probe)
		if chosen != "" {
			return useResponding(plan, p, chosen, attempts), nil
		}
		record(&attemptRecord{addresses: plan.Addresses, source: plan.Source, attempts: attempts, unreachable: true})
		// No candidate responded: let the command fail against the first
		// address, as BuildKit's buildctl would, so that its error text stays
		// the same.
		return dial(ctx, first, false, p)
	}

	waitCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	chosen, attempts := address.Poll(waitCtx, plan.Addresses, probe, time.Second)
	if chosen != "" {
		return useResponding(plan, p, chosen, attempts), nil
	}
	record(&attemptRecord{addresses: plan.Addresses, source: plan.Source, attempts: attempts, unreachable: true})
	// BuildKit's buildctl, waiting on an address where nothing responds,
	// fails with the cause of its expired context once the timeout passes.
	// NOTE: a first address that accepts connections but never responds
	// makes BuildKit's buildctl fail with a gRPC DeadlineExceeded status
	// instead, after gRPC's 20-second connect timeout. This error differs
	// from it in that case.
	return nil, context.Cause(waitCtx)
}

// useResponding records the attempts that found chosen and returns the
// prober's client for it.
func useResponding(plan address.Plan, p *prober, chosen string, attempts []address.Attempt) *client.Client {
	if chosen != plan.Addresses[0] {
		logrus.WithFields(logrus.Fields{"requested": plan.Addresses[0], "address": chosen}).
			Debug("buildkitd did not respond at the first address, using a fallback candidate")
	}
	record(&attemptRecord{addresses: plan.Addresses, source: plan.Source, attempts: attempts})
	return p.responded
}

// withConnectTimeout bounds the gRPC handshake on unix sockets by timeout,
// so a listener that accepts connections but never responds fails after
// --timeout seconds instead of gRPC's 20-second default. Other schemes keep
// the default, because an ssh or kubectl helper may take longer to set up.
func withConnectTimeout(opts []client.ClientOpt, addr string, timeout time.Duration) []client.ClientOpt {
	if _, ok := address.UnixPath(addr); !ok || timeout <= 0 {
		return opts
	}
	params := grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: timeout}
	return append(slices.Clip(opts), client.WithGRPCDialOption(grpc.WithConnectParams(params)))
}

func logAttempt(addr string, err error) {
	entry := logrus.WithField("address", addr)
	if err != nil {
		entry.WithError(err).Debug("buildkitd candidate did not respond")
	} else {
		entry.Debug("buildkitd candidate responded")
	}
}

// tlsFiles holds the paths of the TLS files in use; empty means not given.
type tlsFiles struct {
	caCert, cert, key string
}

// given reports whether any TLS file is in use, so connections use TLS.
func (f tlsFiles) given() bool {
	return f.caCert != "" || f.cert != "" || f.key != ""
}

// load reads and parses the files the way client.New does and returns the
// first failure, or nil when all given files are usable.
func (f tlsFiles) load() error {
	if f.caCert != "" {
		pem, err := os.ReadFile(f.caCert)
		if err != nil {
			return err
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate found in %s", f.caCert)
		}
	}
	if f.cert != "" || f.key != "" {
		if _, err := tls.LoadX509KeyPair(f.cert, f.key); err != nil {
			return err
		}
	}
	return nil
}

func tlsClientOpts(opts Options) ([]client.ClientOpt, tlsFiles, error) {
	caCert, cert, key := opts.TLSCACert, opts.TLSCert, opts.TLSKey
	if opts.TLSDir != "" {
		if caCert != "" || cert != "" || key != "" {
			return nil, tlsFiles{}, errors.New("cannot specify tlsdir and tlscacert/tlscert/tlskey at the same time")
		}
		var err error
		if caCert, cert, key, err = tlsFilesInDir(opts.TLSDir); err != nil {
			return nil, tlsFiles{}, err
		}
	}

	serverName := opts.TLSServerName
	if serverName == "" {
		// Without --tlsservername the certificate must name the address's host.
		u, err := url.Parse(opts.Address)
		if err != nil {
			return nil, tlsFiles{}, err
		}
		serverName = u.Hostname()
	}

	var clientOpts []client.ClientOpt
	if caCert != "" {
		clientOpts = append(clientOpts, client.WithServerConfig(serverName, caCert))
	}
	if cert != "" || key != "" {
		clientOpts = append(clientOpts, client.WithCredentials(cert, key))
	}
	return clientOpts, tlsFiles{caCert: caCert, cert: cert, key: key}, nil
}

// tlsFilesInDir finds the CA certificate, client certificate and key in dir,
// under either the Docker names (ca.pem, cert.pem, key.pem) or the Kubernetes
// secret names (ca.crt, tls.crt, tls.key).
func tlsFilesInDir(dir string) (caCert, cert, key string, err error) {
	pick := func(first, second string) (string, error) {
		for _, name := range []string{first, second} {
			p := filepath.Join(dir, name)
			_, err := os.Stat(p)
			if err == nil {
				return p, nil
			}
			if !os.IsNotExist(err) {
				return "", err
			}
		}
		return "", fmt.Errorf("directory did not contain one of the needed files: %s or %s", first, second)
	}
	if caCert, err = pick("ca.pem", "ca.crt"); err != nil {
		return "", "", "", err
	}
	if cert, err = pick("cert.pem", "tls.crt"); err != nil {
		return "", "", "", err
	}
	if key, err = pick("key.pem", "tls.key"); err != nil {
		return "", "", "", err
	}
	return caCert, cert, key, nil
}
