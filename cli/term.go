package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// isTerminal reports whether v is a file open on a terminal. Anything
// else, such as a test's buffer or a pipe, is not.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// prompter asks an operator to confirm a destructive command.
type prompter struct {
	in io.Reader
	// out shows the question; stderr, so that stdout keeps only results.
	out io.Writer
	// interactive is true when someone can answer: stdin is a terminal.
	interactive bool
}

func newPrompter(in io.Reader, out io.Writer) prompter {
	return prompter{in: in, out: out, interactive: isTerminal(in)}
}

// errNotConfirmed is returned when the operator declines.
var errNotConfirmed = errors.New("not confirmed; nothing was changed")

// confirm asks question and returns nil only on a yes. Without a terminal
// nobody can answer, so it refuses and says how to confirm up front.
func (p prompter) confirm(question string) error {
	if !p.interactive {
		return errors.New("this command changes things and asks for confirmation, but stdin " +
			"is not a terminal; pass --yes to confirm without asking")
	}
	fmt.Fprintf(p.out, "%s [y/N] ", question)
	line, err := bufio.NewReader(p.in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(p.out)
		return errors.New("no answer on stdin; pass --yes to confirm without asking")
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errNotConfirmed
}
