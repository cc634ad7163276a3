package buildopt

import (
	"errors"
	"fmt"
	"io"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// ReadDefinition reads a marshaled LLB definition, the input of a build
// without --frontend. With noCache every operation is marked to skip the
// cache, as --no-cache does for a frontend build.
func ReadDefinition(r io.Reader, noCache bool) (*llb.Definition, error) {
	def, err := llb.ReadFrom(r)
	if err != nil {
		return nil, fmt.Errorf("failed to parse input: %w", err)
	}
	if len(def.Def) == 0 {
		return nil, errors.New("empty definition sent to build. Specify --frontend instead?")
	}
	if !noCache {
		return def, nil
	}

	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("failed to parse llb proto op: %w", err)
		}
		dgst := digest.FromBytes(dt)
		c := llb.Constraints{Metadata: def.Metadata[dgst]}
		llb.IgnoreCache(&c)
		def.Metadata[dgst] = c.Metadata
	}
	return def, nil
}
