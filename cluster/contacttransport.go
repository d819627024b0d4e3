package cluster

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// contactTransport is raft's NetworkTransport with every incoming
// AppendEntries (heartbeats included) and InstallSnapshot noted in a
// contactLog before Raft sees it. Everything else — pre-vote support
// (raft.WithPreVote) among it — is the embedded transport's.
type contactTransport struct {
	*raft.NetworkTransport
	contacts *contactLog
	out      chan raft.RPC
	done     chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

var (
	_ raft.WithPreVote = (*contactTransport)(nil)
	_ raft.WithClose   = (*contactTransport)(nil)
)

func newContactTransport(inner *raft.NetworkTransport, contacts *contactLog) *contactTransport {
	t := &contactTransport{NetworkTransport: inner, contacts: contacts, out: make(chan raft.RPC), done: make(chan struct{})}
	t.wg.Add(1)
	go t.relay()
	return t
}

// relay passes the embedded transport's RPCs on, noting leader contacts.
func (t *contactTransport) relay() {
	defer t.wg.Done()
	in := t.NetworkTransport.Consumer()
	for {
		select {
		case rpc := <-in:
			t.note(rpc)
			select {
			case t.out <- rpc:
			case <-t.done:
				return
			}
		case <-t.done:
			return
		}
	}
}

func (t *contactTransport) note(rpc raft.RPC) {
	switch req := rpc.Command.(type) {
	case *raft.AppendEntriesRequest:
		t.contacts.heard(req.Term, time.Now())
	case *raft.InstallSnapshotRequest:
		t.contacts.heard(req.Term, time.Now())
	}
}

// Consumer implements raft.Transport.
func (t *contactTransport) Consumer() <-chan raft.RPC { return t.out }

// SetHeartbeatHandler implements raft.Transport: heartbeats take a fast
// path around Consumer, and are noted too.
func (t *contactTransport) SetHeartbeatHandler(cb func(rpc raft.RPC)) {
	if cb == nil {
		t.NetworkTransport.SetHeartbeatHandler(nil)
		return
	}
	t.NetworkTransport.SetHeartbeatHandler(func(rpc raft.RPC) {
		t.note(rpc)
		cb(rpc)
	})
}

// Close implements raft.WithClose: it closes the embedded transport and
// stops the relay.
func (t *contactTransport) Close() error {
	err := t.NetworkTransport.Close()
	t.once.Do(func() { close(t.done) })
	t.wg.Wait()
	return err
}
