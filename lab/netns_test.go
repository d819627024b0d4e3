package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs f on an OS thread that has entered the named network
// namespace. The thread is never handed back to the scheduler: the
// goroutine exits still locked, so the runtime throws the thread away and
// no other goroutine ever runs in the lab namespace by accident. Sockets
// that f opens belong to the namespace for their whole life and may then be
// used from any goroutine.
func inNetns(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked, on purpose
		if err := enterNetns(name); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

func enterNetns(name string) error {
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %w", name, err)
	}
	return nil
}

// nsWorker is one OS thread parked in a namespace that runs closures for
// callers that need many cheap calls there (the VIP sampler).
type nsWorker struct {
	reqs chan func()
}

func newNSWorker(name string) (*nsWorker, error) {
	w := &nsWorker{reqs: make(chan func())}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := enterNetns(name); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for f := range w.reqs {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return w, nil
}

// do runs f on the worker's thread and waits for it.
func (w *nsWorker) do(f func()) {
	done := make(chan struct{})
	w.reqs <- func() { f(); close(done) }
	<-done
}

func (w *nsWorker) close() { close(w.reqs) }

// nsDialer dials from inside a namespace.
type nsDialer struct {
	ns string
}

func (d nsDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(d.ns, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// listenUDP opens an unconnected UDP socket in the namespace.
func listenUDP(ns string) (*net.UDPConn, error) {
	var c *net.UDPConn
	err := inNetns(ns, func() error {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
		return err
	})
	return c, err
}

// ifaceIPv4 lists the IPv4 addresses on the interface; to be called on a
// thread inside the namespace.
func ifaceIPv4(ifname string) ([]net.IP, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	var out []net.IP
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			out = append(out, ipn.IP.To4())
		}
	}
	return out, nil
}

// netnsExists reports whether /run/netns/name exists.
func netnsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// spawner is one OS thread, locked for the life of the test binary, that
// starts every server process. The servers get Pdeathsig=SIGKILL, which
// the kernel ties to the thread that forked them: were that any thread,
// the runtime could later hand it to a goroutine of inNetns, whose thread
// is thrown away, and the server would die with it. This thread never ends
// before the process does.
var spawner = func() chan func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: this thread only forks
		for f := range ch {
			f()
		}
	}()
	return ch
}()

// startProcess starts cmd from the spawner thread.
func startProcess(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	spawner <- func() { errc <- cmd.Start() }
	return <-errc
}
