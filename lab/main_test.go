package lab

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resolvx/resolvx/internal/testbin"
)

// binPath is the resolvx binary the nodes run: RESOLVX_BIN, or one built
// by TestMain.
var binPath string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var cleanup func()
	var err error
	if binPath, cleanup, err = testbin.Resolvx("../cmd/resolvx"); err != nil {
		return 0, err
	}
	defer cleanup()
	gcStaleLabs()
	started := time.Now()
	code := m.Run()
	var table strings.Builder
	printFigures(&table, started)
	fmt.Print(table.String())
	if f := os.Getenv("RESOLVX_LAB_FIGURES"); f != "" && table.Len() > 0 {
		if err := os.WriteFile(f, []byte(table.String()), 0o644); err != nil {
			return code, err
		}
	}
	return code, nil
}

// requireRoot is the first call of every privileged test.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getenv("RESOLVX_SKIP_PRIVILEGED") == "1" {
		t.Skip("RESOLVX_SKIP_PRIVILEGED=1: skipping the L2 lab on purpose")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the L2 lab needs root (network namespaces); run as root or set RESOLVX_SKIP_PRIVILEGED=1 to skip on purpose")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the L2 lab needs %q (Debian packages iproute2, nftables): %v", tool, err)
		}
	}
}

// benchMode is RESOLVX_LAB_BENCH=1: more repetitions of the measured faults.
func benchMode() bool { return os.Getenv("RESOLVX_LAB_BENCH") == "1" }

// reps is the repetition count: min in make test, bench under make lab-bench
// (or RESOLVX_LAB_REPS when set).
func reps(min, bench int) int {
	if v, err := strconv.Atoi(os.Getenv("RESOLVX_LAB_REPS")); err == nil && v >= min {
		return v
	}
	if benchMode() {
		return bench
	}
	return min
}

var (
	vipOnce  sync.Once
	vipHelp  string
	vipError error
)

// serverHelp is `resolvx server --help` of the binary under test.
func serverHelp() (string, error) {
	vipOnce.Do(func() {
		out, err := exec.Command(binPath, "server", "--help").CombinedOutput()
		vipHelp, vipError = string(out), err
	})
	return vipHelp, vipError
}

// requireVIP fails (never skips) when the binary has no VIP support: the
// scenarios that need it must not pass by doing nothing.
func requireVIP(t *testing.T) {
	t.Helper()
	help, err := serverHelp()
	if err != nil {
		t.Fatalf("resolvx server --help: %v\n%s", err, help)
	}
	if !strings.Contains(help, "--vip ") || !strings.Contains(help, "--vip-interface") {
		t.Fatalf("VIP support not in this build: %s server --help has no --vip/--vip-interface flags", binPath)
	}
}

// figure is one measured number for the table make lab-bench prints.
type figure struct {
	scenario, what, value, goal string
}

var (
	figMu   sync.Mutex
	figList []figure
)

func addFigure(scenario, what, value, goal string) {
	figMu.Lock()
	defer figMu.Unlock()
	figList = append(figList, figure{scenario, what, value, goal})
}

func printFigures(w io.Writer, started time.Time) {
	figMu.Lock()
	defer figMu.Unlock()
	if len(figList) == 0 {
		return
	}
	host, _ := os.Hostname()
	mode := "make test (minimum repetitions)"
	if benchMode() {
		mode = "lab-bench (RESOLVX_LAB_BENCH=1)"
	}
	fmt.Fprintf(w, "\nresolvx L2 lab figures, %s, %s, host %s, %d CPUs, run took %v\n",
		started.Format("2006-01-02 15:04 MST"), mode, host, runtime.NumCPU(), time.Since(started).Round(time.Second))
	widths := [4]int{len("scenario"), len("figure"), len("value"), len("goal")}
	for _, f := range figList {
		for i, s := range []string{f.scenario, f.what, f.value, f.goal} {
			widths[i] = max(widths[i], len(s))
		}
	}
	line := func(a, b, c, d string) {
		fmt.Fprintf(w, "| %-*s | %-*s | %*s | %-*s |\n", widths[0], a, widths[1], b, widths[2], c, widths[3], d)
	}
	line("scenario", "figure", "value", "goal")
	fmt.Fprintf(w, "|%s|%s|%s|%s|\n", strings.Repeat("-", widths[0]+2), strings.Repeat("-", widths[1]+2),
		strings.Repeat("-", widths[2]+2), strings.Repeat("-", widths[3]+2))
	for _, f := range figList {
		line(f.scenario, f.what, f.value, f.goal)
	}
	fmt.Fprintln(w)
}

// gcStaleLabs deletes the namespaces of labs left by a test binary that
// died without its cleanups (killed, or a go test -timeout panic): lab
// namespaces (rxl-<6 hex>-…) older than an hour, in which no process runs.
// A lab of a run still going is never that old (the suite takes minutes),
// and its namespaces hold its servers.
func gcStaleLabs() {
	if os.Geteuid() != 0 {
		return
	}
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !staleLabName.MatchString(name) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < time.Hour {
			continue
		}
		if out, err := exec.Command("ip", "netns", "pids", name).Output(); err != nil || strings.TrimSpace(string(out)) != "" {
			continue
		}
		if err := exec.Command("ip", "netns", "del", name).Run(); err == nil {
			fmt.Fprintf(os.Stderr, "lab: deleted stale namespace %s left by an earlier run\n", name)
		}
	}
}

var staleLabName = regexp.MustCompile(`^rxl-[0-9a-f]{6}-(sw|c|n[0-9]+)$`)
