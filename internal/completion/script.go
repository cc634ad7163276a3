package completion

import (
	"embed"
	"fmt"
	"io"
	"strings"
)

//go:embed scripts
var scripts embed.FS

// Shells lists the shells that Script supports.
var Shells = []string{"bash", "zsh", "fish"}

// Script returns the completion script of shell for the program prog. The
// script runs "prog __complete WORD..." and offers the lines it prints.
func Script(shell, prog string) (string, error) {
	text, err := scripts.ReadFile("scripts/" + shell)
	if err != nil {
		return "", fmt.Errorf("no completion script for shell %q", shell)
	}
	// Shell function names cannot contain every character a program name can.
	funcName := strings.Map(func(r rune) rune {
		if r == '-' || r == '.' {
			return '_'
		}
		return r
	}, prog)
	return strings.NewReplacer("@PROG@", prog, "@FUNC@", funcName).Replace(string(text)), nil
}

// Write prints candidates one per line, as the scripts read them: the value,
// then a tab and the description when there is one.
func Write(w io.Writer, candidates []Candidate) error {
	for _, c := range candidates {
		line := c.Value
		if c.Description != "" {
			line += "\t" + strings.Join(strings.Fields(c.Description), " ")
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
