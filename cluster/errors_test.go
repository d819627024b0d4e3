package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/resolvx/resolvx/transport"
	"github.com/resolvx/resolvx/zone"
)

// Invariant: an error rebuilt from another node keeps its code and message,
// matches this package's sentinels and zone's with errors.Is, and a handler
// that ran out of the caller's time reads as NO_QUORUM.
func TestFromRemote(t *testing.T) {
	for _, tc := range []struct {
		code string
		is   []error
		want string
	}{
		{"VALIDATION_ERROR", []error{zone.ErrInvalid}, "VALIDATION_ERROR"},
		{"NOT_FOUND", []error{zone.ErrNotFound, ErrNotFound}, "NOT_FOUND"},
		{"ALREADY_EXISTS", []error{zone.ErrExists}, "ALREADY_EXISTS"},
		{"NO_QUORUM", []error{ErrNoQuorum}, "NO_QUORUM"},
		{"NOT_LEADER", []error{errNotLeader}, "NOT_LEADER"},
		{transport.CodeDeadline, []error{ErrNoQuorum, context.DeadlineExceeded}, "NO_QUORUM"},
	} {
		err := error(fromRemote(&transport.RemoteError{ErrCode: tc.code, Message: "detail"}))
		if zone.CodeOf(err) != tc.want || !strings.Contains(err.Error(), "detail") {
			t.Fatalf("%s: got %q %q", tc.code, zone.CodeOf(err), err)
		}
		for _, target := range tc.is {
			if !errors.Is(err, target) {
				t.Fatalf("%s: errors.Is(%v) is false", tc.code, target)
			}
		}
	}
	if !retryable(errNotLeader) || !retryable(errTransferred) || !retryable(&transport.DialError{Addr: "x", Err: errors.New("refused")}) {
		t.Fatal("not-leader and dial errors must be retryable")
	}
	if retryable(ErrNoQuorum) || retryable(zone.ErrInvalid) {
		t.Fatal("a write that may have been applied must not be retried")
	}
}

// Invariant: raft's hclog output reaches slog at the mapped level, with the
// logger's name and With arguments as attributes.
func TestHCLogAdapter(t *testing.T) {
	var buf bytes.Buffer
	h := newHCLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), "raft")
	h.Named("net").With("peer", "n2").Warn("failed to contact", "err", "refused")
	h.Debug("hidden")
	h.Error("closed by us", "error", fmt.Errorf("write tcp: %w", net.ErrClosed))
	h.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}).Print("from std")
	out := buf.String()
	for _, want := range []string{"level=WARN", "logger=raft.net", "peer=n2", "err=refused", `msg="failed to contact"`, "level=ERROR", `msg="from std"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %s", want, out)
		}
	}
	if strings.Contains(out, "hidden") || strings.Contains(out, "closed by us") || h.IsDebug() || !h.IsInfo() || h.GetLevel() != hclog.Info {
		t.Fatalf("levels: %s", out)
	}
}
