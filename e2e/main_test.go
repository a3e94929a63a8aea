package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var (
	// repoRoot is the directory holding go.mod.
	repoRoot string
	// vigiaBin is the binary built by TestMain.
	vigiaBin string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := findRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = root

	// VIGIA_E2E_BIN tests a binary built elsewhere (a release build).
	if bin := os.Getenv("VIGIA_E2E_BIN"); bin != "" {
		if vigiaBin, err = filepath.Abs(bin); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		return m.Run()
	}

	dir, err := os.MkdirTemp("", "vigia-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	vigiaBin = filepath.Join(dir, "vigia")
	args := []string{"build", "-o", vigiaBin}
	if os.Getenv("VIGIA_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/vigia")
	build := exec.Command("go", args...)
	build.Dir = repoRoot
	var out bytes.Buffer
	build.Stdout, build.Stderr = &out, &out
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %s (in %s): %v\n%s", strings.Join(args, " "), repoRoot, err, out.String())
		return 1
	}
	return m.Run()
}

// findRepoRoot returns the module root: `go env GOMOD`, else the nearest
// parent of the working directory with a go.mod.
func findRepoRoot() (string, error) {
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod), nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}
