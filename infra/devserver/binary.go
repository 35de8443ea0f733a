package devserver

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BinaryEnv names the environment variable that points at a Temporal CLI
// binary. The Makefile sets it so that tests and `drover dev` use the one it
// built.
const BinaryEnv = "DROVER_TEMPORAL_BIN"

// modulePath identifies drover's own go.mod while walking up directories,
// so that a checkout nested in another module is not mistaken for it.
const modulePath = "github.com/drover-dev/drover"

// cliPackage is the Temporal CLI's main package as tools/go.mod pins it.
const cliPackage = "github.com/temporalio/cli/cmd/temporal"

// Binary returns the path of a Temporal CLI binary to run the dev server
// with. It takes, in order: the file named by $DROVER_TEMPORAL_BIN;
// .bin/temporal in drover's module root; or, when the go command and
// tools/go.mod are at hand, a fresh build into .bin/temporal. It never
// downloads a release binary: the version is the one tools/go.mod pins.
func Binary() (string, error) {
	return binary(os.Stderr)
}

func binary(notice io.Writer) (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w; run `make temporal` or unset it", BinaryEnv, p, err)
		}
		return p, nil
	}

	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the Temporal CLI: %w", err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return "", fmt.Errorf("find the Temporal CLI: %w; set %s to its path", err, BinaryEnv)
	}

	path := filepath.Join(root, ".bin", "temporal")
	if checkExecutable(path) == nil {
		return path, nil
	}
	if err := build(root, path, notice); err != nil {
		return "", err
	}
	return path, nil
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// moduleRoot walks up from dir to the directory whose go.mod declares
// drover's module.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		if declaresModule(filepath.Join(d, "go.mod")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod for module %s in %s or above it", modulePath, dir)
		}
		d = parent
	}
}

func declaresModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, ok := strings.CutPrefix(line, "module"); ok && name != line {
			return strings.Trim(strings.TrimSpace(name), `"`) == modulePath
		}
	}
	return false
}

// build compiles the Temporal CLI pinned in tools/go.mod into path. Several
// test binaries may ask at once; a lock lets one build while the others
// wait and then find the result.
func build(root, path string, notice io.Writer) error {
	toolsMod := filepath.Join(root, "tools", "go.mod")
	if _, err := os.Stat(toolsMod); err != nil {
		return fmt.Errorf("no Temporal CLI at %s and no %s to build it from; "+
			"run `make temporal` in a drover checkout or set %s", path, toolsMod, BinaryEnv)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("no Temporal CLI at %s and no go command to build it: "+
			"install Go and run `make temporal`, or set %s", path, BinaryEnv)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("build the Temporal CLI: %w", err)
	}

	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("build the Temporal CLI: %w", err)
	}
	defer unlock()
	if checkExecutable(path) == nil {
		return nil // built by whoever held the lock before us
	}

	fmt.Fprintf(notice, "drover: building the Temporal CLI into %s "+
		"(the first build takes several minutes)\n", path)
	tmp := path + ".building"
	cmd := exec.Command(goTool, "build", "-modfile=tools/go.mod", "-o", tmp, cliPackage)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("build the Temporal CLI (go build -modfile=tools/go.mod %s): %w\n%s",
			cliPackage, err, tail(out, 4096))
	}
	// The rename makes the binary appear whole, never half-written.
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("build the Temporal CLI: %w", err)
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
