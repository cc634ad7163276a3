// Package llbdump decodes a serialized LLB definition, the output of
// llb.Definition.WriteTo, and prints its operations as JSON lines or as a
// Graphviz dot graph, in the layouts of BuildKit v0.34.2's "buildctl debug
// dump-llb". It needs no daemon.
package llbdump

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// Op is one operation of a definition. The field names are the JSON keys of
// the output, so they must not change.
type Op struct {
	Op         *pb.Op
	Digest     digest.Digest
	OpMetadata *pb.OpMetadata
}

// Load reads a definition from r and decodes its operations in the order
// they are stored.
func Load(r io.Reader) ([]Op, error) {
	def, err := llb.ReadFrom(r)
	if err != nil {
		return nil, err
	}
	ops := make([]Op, 0, len(def.Def))
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("failed to parse op: %w", err)
		}
		dgst := digest.FromBytes(dt)
		ops = append(ops, Op{Op: &op, Digest: dgst, OpMetadata: def.Metadata[dgst].ToPB()})
	}
	return ops, nil
}

// WriteJSON writes each operation as one JSON object per line.
func WriteJSON(w io.Writer, ops []Op) error {
	enc := json.NewEncoder(w)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			return err
		}
	}
	return nil
}
