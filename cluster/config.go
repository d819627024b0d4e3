package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Config configures a Node.
type Config struct {
	// NodeID is this node's Raft server ID; it must be unique and stable.
	NodeID string
	// DataDir holds raft.db (log and stable store) and snapshots/.
	DataDir string
	// Listen is the cluster (Raft + RPC) listen address; Advertise is the
	// address peers dial ("" = Listen, which must then name a host).
	Listen, Advertise string
	// APIAddress and DNSAddress are only reported in status.
	APIAddress, DNSAddress string
	// Bootstrap makes a node with no Raft state start a one-node cluster of
	// itself even when Join is set. A node with no state and no Join
	// bootstraps anyway.
	Bootstrap bool
	// Join lists cluster addresses of any members; Start asks them (in turn,
	// with backoff) to add this node. Joining is idempotent.
	Join []string
	// Raft timings; 0 = 500ms / 500ms / 250ms / 5ms.
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout, CommitTimeout time.Duration
	// Snapshot policy; 0 = 8192 entries / 60s.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// Logger receives the node's and raft's logs; nil discards them.
	Logger *slog.Logger

	// VIPLease enables the VIP gate (MayHoldVIP): it is the longest a VIP
	// holder's address may stay on its host after the start of the
	// MayHoldVIP call that allowed its last refresh (vip.Config.ExpiryBound:
	// the kernel lifetime, the kernel's lateness, the manager's decision
	// age). Every node must use the same value. 0 disables the VIP:
	// MayHoldVIP is always false.
	VIPLease time.Duration
	// VIPAddress is reported in Status.VIP while some member holds it.
	VIPAddress string
	// VIPHeld reports whether this node holds the VIP now (for status);
	// nil means never.
	VIPHeld func() bool
	// BeforeTransfer is called by a leader right before it hands its
	// leadership over (Shutdown, Leave): it must remove this node's VIP
	// and return nil only once it is gone. The gate refuses the VIP from
	// then until the transfer ends. An error cancels the transfer: the
	// others elect a leader after a timeout instead, which is safe with a
	// VIP that may still be up.
	BeforeTransfer func(ctx context.Context) error
}

// Defaults for zero Config fields.
const (
	DefaultHeartbeatTimeout   = 500 * time.Millisecond
	DefaultElectionTimeout    = 500 * time.Millisecond
	DefaultLeaderLeaseTimeout = 250 * time.Millisecond
	DefaultCommitTimeout      = 5 * time.Millisecond
	DefaultSnapshotThreshold  = 8192
	DefaultSnapshotInterval   = 60 * time.Second
	// snapshotsRetained is how many snapshots the file store keeps.
	snapshotsRetained = 3
)

func (c *Config) setDefaults() {
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = DefaultElectionTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = DefaultLeaderLeaseTimeout
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = DefaultSnapshotInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("cluster: a node id is required")
	case c.DataDir == "":
		return errors.New("cluster: a data directory is required")
	case c.Listen == "":
		return errors.New("cluster: a cluster listen address is required")
	}
	return nil
}

// raftConfig builds raft's configuration from c (after setDefaults).
func (c *Config) raftConfig(notify chan bool, logger *slog.Logger) (*raft.Config, error) {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.NodeID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.NotifyCh = notify
	rc.ShutdownOnRemove = true
	rc.PreVoteDisabled = false
	rc.Logger = newHCLog(logger, "raft")
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("cluster: invalid raft timings (heartbeat %s, election %s, leader lease %s, commit %s): %w",
			c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout, c.CommitTimeout, err)
	}
	return rc, nil
}

// prepareDataDir creates dir and checks that it is writable, with errors
// that name it.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cluster: data directory %q cannot be created: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("cluster: data directory %q is not writable: %w", dir, err)
	}
	name := probe.Name()
	_, werr := probe.Write([]byte("ok"))
	cerr := probe.Close()
	os.Remove(name)
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("cluster: data directory %q is not writable: %w", dir, err)
	}
	return nil
}

// openStore opens raft.db in dir: Raft's log and stable store.
func openStore(dir string) (*raftboltdb.BoltStore, error) {
	path := filepath.Join(dir, "raft.db")
	s, err := raftboltdb.New(raftboltdb.Options{
		Path:        path,
		BoltOptions: &bbolt.Options{Timeout: time.Second},
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("cluster: %s is locked: is another resolvx running with data directory %q?", path, dir)
		}
		return nil, fmt.Errorf("cluster: cannot open the raft log %s in data directory %q: %w", path, dir, err)
	}
	return s, nil
}
