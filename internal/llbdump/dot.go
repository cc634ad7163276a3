package llbdump

import (
	"fmt"
	"io"
	"strings"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// WriteDot writes the operations as a Graphviz digraph: one node per
// operation, labelled and shaped by its kind, and one edge per input. An edge
// into an exec operation is labelled with the mount point of that input,
// except for the root mount. Operation metadata is not part of the graph.
// Write errors are ignored, as BuildKit v0.34.2's buildctl ignores them for
// this output.
func WriteDot(w io.Writer, ops []Op) {
	var b strings.Builder
	b.WriteString("digraph {\n")
	for _, op := range ops {
		label, shape := nodeAttributes(op.Digest, op.Op)
		fmt.Fprintf(&b, "  %q [label=%q shape=%q];\n", op.Digest, label, shape)
	}
	for _, op := range ops {
		for i, input := range op.Op.Inputs {
			fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", input.Digest, op.Digest, mountLabel(op.Op, i))
		}
	}
	b.WriteString("}\n")
	_, _ = io.WriteString(w, b.String())
}

// mountLabel returns the destination of the last exec mount that uses input
// i, or "" for other kinds of operation and for the root mount.
func mountLabel(op *pb.Op, i int) string {
	exec, ok := op.Op.(*pb.Op_Exec)
	if !ok {
		return ""
	}
	label := ""
	for _, m := range exec.Exec.GetMounts() {
		if int(m.Input) == i && m.Dest != "/" {
			label = m.Dest
		}
	}
	return label
}

func nodeAttributes(dgst digest.Digest, op *pb.Op) (label, shape string) {
	switch op := op.Op.(type) {
	case *pb.Op_Source:
		return op.Source.GetIdentifier(), "ellipse"
	case *pb.Op_Exec:
		return strings.Join(op.Exec.GetMeta().GetArgs(), " "), "box"
	case *pb.Op_Build:
		return "build", "box3d"
	case *pb.Op_Merge:
		return "merge", "invtriangle"
	case *pb.Op_Diff:
		return "diff", "doublecircle"
	case *pb.Op_File:
		return fileActionsLabel(op.File.GetActions()), "note"
	default:
		return dgst.String(), "plaintext"
	}
}

// fileActionsLabel lists the actions of a file operation, comma-separated,
// such as "mkdir{path=/a},copy{src=/b, dest=/c}". An action of an unknown
// kind contributes an empty name.
func fileActionsLabel(actions []*pb.FileAction) string {
	names := make([]string, 0, len(actions))
	for _, action := range actions {
		var name string
		switch a := action.Action.(type) {
		case *pb.FileAction_Copy:
			name = fmt.Sprintf("copy{src=%s, dest=%s}", a.Copy.Src, a.Copy.Dest)
		case *pb.FileAction_Mkfile:
			name = fmt.Sprintf("mkfile{path=%s}", a.Mkfile.Path)
		case *pb.FileAction_Mkdir:
			name = fmt.Sprintf("mkdir{path=%s}", a.Mkdir.Path)
		case *pb.FileAction_Rm:
			name = fmt.Sprintf("rm{path=%s}", a.Rm.Path)
		case *pb.FileAction_Symlink:
			name = fmt.Sprintf("symlink{oldpath=%s, newpath=%s}", a.Symlink.Oldpath, a.Symlink.Newpath)
		}
		names = append(names, name)
	}
	return strings.Join(names, ",")
}
