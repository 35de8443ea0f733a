package topology

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a topology file.
type Problem struct {
	File string
	// Line is where the problem is, 1-based: the offending key or item,
	// or for a missing field the line of the item that lacks it.
	Line int
	// Path names the field, such as services[2].cluster; empty for the
	// file as a whole.
	Path    string
	Message string
}

// String formats the problem as file:line: path: message.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error holds every problem found in a topology file, in line order and
// then path order.
type Error struct {
	Problems []Problem
}

// Error lists the problems one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects what a check finds. lines holds the line of every
// field path the file wrote, set those that hold a non-null value.
type problems struct {
	file  string
	list  []Problem
	lines map[string]int
	set   map[string]bool
	// bad holds paths whose value could not be decoded; checks stay quiet
	// about them and what is under them, having nothing sound to check.
	bad map[string]bool
}

func newProblems(file string) *problems {
	return &problems{
		file:  file,
		lines: map[string]int{},
		set:   map[string]bool{},
		bad:   map[string]bool{},
	}
}

func (ps *problems) add(line int, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{
		File:    ps.file,
		Line:    line,
		Path:    path,
		Message: fmt.Sprintf(format, args...),
	})
}

// at records a problem at path, placed on the path's own line or the
// line of the closest enclosing field that was written.
func (ps *problems) at(path, format string, args ...any) {
	for p := path; ; p = parentPath(p) {
		if ps.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	ps.add(ps.lineOf(path), path, format, args...)
}

// undecodable records a value of the wrong shape at path.
func (ps *problems) undecodable(line int, path, format string, args ...any) {
	ps.add(line, path, format, args...)
	ps.bad[path] = true
}

func (ps *problems) lineOf(path string) int {
	for {
		if l, ok := ps.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// has reports whether the file gave a (non-null) value at path.
func (ps *problems) has(path string) bool {
	return ps.set[path]
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i], ps.list[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
	return &Error{Problems: ps.list}
}

// parentPath drops the last element of a field path: services[2].cluster
// becomes services[2], which becomes services.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}
