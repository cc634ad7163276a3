// Package blob reads blobs from buildkitd's content store, as "debug get" and
// "debug logs --trace" do.
package blob

import (
	"context"
	"io"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/content/proxy"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// copyBufferSize is the read size per request to the daemon, 1 MiB, the
// same size BuildKit uses when it ingests blobs.
const copyBufferSize = 1 << 20

// Copy writes the blob that desc names to w. Only desc.Digest is required;
// Size and MediaType are passed on to the store when known.
func Copy(ctx context.Context, cc contentapi.ContentClient, desc ocispecs.Descriptor, w io.Writer) error {
	store := proxy.NewContentStore(cc)
	ra, err := store.ReaderAt(ctx, desc)
	if err != nil {
		return err
	}
	defer ra.Close()

	_, err = io.CopyBuffer(w, content.NewReader(ra), make([]byte, copyBufferSize))
	return err
}
