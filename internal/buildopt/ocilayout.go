package buildopt

import (
	"fmt"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
)

// ParseOCILayout parses the --oci-layout ID=DIR values into content stores
// that the session exposes to the daemon under their IDs.
func ParseOCILayout(values []string) (map[string]content.Store, error) {
	stores := make(map[string]content.Store, len(values))
	for _, v := range values {
		id, dir, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("oci-layout option must be 'id=path/to/layout', instead had invalid %s", v)
		}
		store, err := local.NewStore(dir)
		if err != nil {
			return nil, fmt.Errorf("oci-layout context at %s failed to initialize: %w", dir, err)
		}
		stores[id] = store
	}
	return stores, nil
}
