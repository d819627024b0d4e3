// Package testbin finds the resolvx binary that whole-binary tests run:
// RESOLVX_BIN when set (make test builds bin/resolvx first), else one built
// into a temporary directory with the project's build tags.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Resolvx returns the absolute path of the binary under test and a cleanup
// that removes a binary this function built. pkgDir is the relative path
// from the calling test's package to cmd/resolvx ("../cmd/resolvx").
func Resolvx(pkgDir string) (path string, cleanup func(), err error) {
	if p := os.Getenv("RESOLVX_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", nil, fmt.Errorf("RESOLVX_BIN %q: %w", p, err)
		}
		return abs, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "resolvx-test-bin")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, "resolvx")
	cmd := exec.Command("go", "build", "-tags", "hashicorpmetrics", "-o", path, pkgDir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building resolvx: %w", err)
	}
	return path, func() { os.RemoveAll(dir) }, nil
}
