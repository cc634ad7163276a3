// Package connect turns the global connection flags into a BuildKit client.
// It is the only caller of client.New in this module.
package connect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/appdefaults"
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
	// Wait blocks until the daemon answers instead of failing at once.
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

// New returns a client for the daemon that opts select. The caller closes it.
func New(ctx context.Context, opts Options) (*client.Client, error) {
	clientOpts, err := tlsClientOpts(opts)
	if err != nil {
		return nil, err
	}

	dialCtx := ctx
	if opts.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		dialCtx, cancel = context.WithTimeout(ctx, time.Duration(opts.TimeoutSeconds)*time.Second)
		defer cancel()
	}

	c, err := client.New(dialCtx, opts.Address, clientOpts...)
	if err != nil {
		return nil, err
	}
	if opts.Wait {
		if err := c.Wait(dialCtx); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func tlsClientOpts(opts Options) ([]client.ClientOpt, error) {
	caCert, cert, key := opts.TLSCACert, opts.TLSCert, opts.TLSKey
	if opts.TLSDir != "" {
		if caCert != "" || cert != "" || key != "" {
			return nil, errors.New("cannot specify tlsdir and tlscacert/tlscert/tlskey at the same time")
		}
		var err error
		if caCert, cert, key, err = tlsFilesInDir(opts.TLSDir); err != nil {
			return nil, err
		}
	}

	serverName := opts.TLSServerName
	if serverName == "" {
		// Without --tlsservername the certificate must name the address's host.
		u, err := url.Parse(opts.Address)
		if err != nil {
			return nil, err
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
	return clientOpts, nil
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
