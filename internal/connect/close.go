package connect

import (
	"errors"
	"sync"

	"github.com/moby/buildkit/client"
)

var (
	openMu      sync.Mutex
	openClients []*client.Client
)

// keep records c for Close.
func keep(c *client.Client) {
	openMu.Lock()
	defer openMu.Unlock()
	openClients = append(openClients, c)
}

// Close closes every client that New returned and returns their errors
// joined. main calls it after the tracing flush, because the flush sends the
// spans that package tracing forwards to the daemon over these connections.
// BuildKit's buildctl never closes its client, so its spans arrive too.
// A second call closes only the clients created since the first.
func Close() error {
	openMu.Lock()
	clients := openClients
	openClients = nil
	openMu.Unlock()

	var errs []error
	for _, c := range clients {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
