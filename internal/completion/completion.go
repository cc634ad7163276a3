// Package completion computes shell completions for a urfave/cli command
// tree: subcommand and flag names, and values of the flags it has value
// lists for (progress modes, exporter types and attributes, frontend names,
// paths). The scripts for bash, zsh and fish in this package call back into
// the program with the words typed so far and show what Complete returns.
package completion

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v3"
)

// Candidate is one completion: the whole word to insert, and an optional
// description that zsh and fish show next to it.
type Candidate struct {
	Value       string
	Description string
}

// Complete returns the candidates for the last element of words, given the
// elements before it, in the tree under root. words excludes the program
// name and ends with the word being completed, which may be empty.
func Complete(root *cli.Command, words []string) []Candidate {
	if len(words) == 0 {
		words = []string{""}
	}
	current := words[len(words)-1]
	state := walk(root, words[:len(words)-1])

	if state.pendingFlag != nil {
		return completeValue(flagName(state.pendingFlag), "", current)
	}
	if !state.afterDashes && strings.HasPrefix(current, "-") {
		if name, value, ok := strings.Cut(current, "="); ok {
			flag := findFlag(state.chain, strings.TrimLeft(name, "-"))
			if flag == nil || !takesValue(flag) {
				return nil
			}
			return completeValue(flagName(flag), name+"=", value)
		}
		return completeFlagNames(state.chain, current)
	}
	candidates := completeSubcommands(state.cmd, current)
	return append(candidates, completeArgument(state.cmd, current)...)
}

// walkState is the command and pending flag that the words before the
// current one lead to.
type walkState struct {
	cmd *cli.Command
	// chain is cmd and the commands above it, nearest first.
	chain []*cli.Command
	// pendingFlag is set when the last word was a flag that needs a value.
	pendingFlag cli.Flag
	// afterDashes is set after "--", which ends flag parsing.
	afterDashes bool
}

func walk(root *cli.Command, words []string) walkState {
	state := walkState{cmd: root, chain: []*cli.Command{root}}
	for _, w := range words {
		switch {
		case state.pendingFlag != nil:
			state.pendingFlag = nil
		case state.afterDashes:
		case w == "--":
			state.afterDashes = true
		case strings.HasPrefix(w, "-") && len(w) > 1:
			name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if flag := findFlag(state.chain, name); flag != nil && !hasValue && takesValue(flag) {
				state.pendingFlag = flag
			}
		default:
			if sub := findSubcommand(state.cmd, w); sub != nil {
				state.cmd = sub
				state.chain = append([]*cli.Command{sub}, state.chain...)
			}
		}
	}
	return state
}

func findSubcommand(cmd *cli.Command, name string) *cli.Command {
	for _, sub := range cmd.Commands {
		if sub.Name == name || slices.Contains(sub.Aliases, name) {
			return sub
		}
	}
	return nil
}

// findFlag looks name up in the commands of chain, nearest first, because
// urfave/cli v3 accepts the flags of a parent command after a subcommand.
func findFlag(chain []*cli.Command, name string) cli.Flag {
	for _, c := range chain {
		for _, flag := range c.Flags {
			if slices.Contains(flag.Names(), name) {
				return flag
			}
		}
	}
	return nil
}

// takesValue reports whether flag consumes the next word. Only boolean
// flags do not.
func takesValue(flag cli.Flag) bool {
	if v, ok := flag.(interface{ TakesValue() bool }); ok {
		return v.TakesValue()
	}
	return true
}

func flagName(flag cli.Flag) string {
	return flag.Names()[0]
}

func completeSubcommands(cmd *cli.Command, prefix string) []Candidate {
	var out []Candidate
	for _, sub := range cmd.Commands {
		if sub.Hidden || !strings.HasPrefix(sub.Name, prefix) {
			continue
		}
		out = append(out, Candidate{Value: sub.Name, Description: sub.Usage})
	}
	return out
}

// completeFlagNames lists the long names of the visible flags of the
// commands in chain, nearest command first.
func completeFlagNames(chain []*cli.Command, prefix string) []Candidate {
	var out []Candidate
	seen := map[string]bool{}
	for _, c := range chain {
		for _, flag := range c.Flags {
			if v, ok := flag.(cli.VisibleFlag); ok && !v.IsVisible() {
				continue
			}
			name := "--" + flagName(flag)
			if seen[name] || !strings.HasPrefix(name, prefix) {
				continue
			}
			seen[name] = true
			usage := ""
			if d, ok := flag.(cli.DocGenerationFlag); ok {
				usage = d.GetUsage()
			}
			out = append(out, Candidate{Value: name, Description: usage})
		}
	}
	return out
}
