package vip

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNamespace runs f on an OS thread switched into ns (the thread is
// switched back before it is released), or directly when ns is not open.
// Sockets opened in f stay in ns. Only tests pass an open ns: the server
// runs in its own namespace.
func inNamespace(ns netns.NsHandle, f func() error) error {
	if !ns.IsOpen() {
		return f()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("vip: reading the current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("vip: entering a network namespace: %w", err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: it dies with this goroutine instead of
		// running other goroutines in the wrong namespace.
		return fmt.Errorf("vip: leaving a network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}
