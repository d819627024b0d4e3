package conformance

import (
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// daemon is a reference server (knotd, nsd) started by a test.
type daemon struct {
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{} // closed when the process has exited
}

// startDaemon starts name with args, its output collected in log.
func startDaemon(name string, args ...string) (*daemon, error) {
	d := &daemon{cmd: exec.Command(name, args...), log: new(lockedBuffer), done: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	return d, nil
}

// stop ends the process by its PID: SIGTERM, then SIGKILL if it lingers.
func (d *daemon) stop() {
	_ = syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
}
