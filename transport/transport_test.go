package transport

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func listen(t *testing.T) *Mux {
	t.Helper()
	m, err := Listen("127.0.0.1:0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

type codedErr struct{ code, msg string }

func (e codedErr) Error() string { return e.msg }
func (e codedErr) Code() string  { return e.code }

// Invariant: Raft and RPC share one port; the first byte decides, and a Raft
// connection reaches the stream layer with its bytes intact.
func TestBothProtocolsOnOnePort(t *testing.T) {
	m := listen(t)
	m.Handle("echo", func(_ context.Context, req json.RawMessage) (any, error) {
		var s string
		if err := json.Unmarshal(req, &s); err != nil {
			return nil, err
		}
		return "echo:" + s, nil
	})

	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := m.RaftLayer().Accept()
		if err == nil {
			accepted <- c
		}
	}()
	rc, err := m.RaftLayer().(raft.StreamLayer).Dial(raft.ServerAddress(m.Addr()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := rc.Write([]byte("hello raft")); err != nil {
		t.Fatal(err)
	}

	var out string
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := Call(ctx, m.Addr(), "echo", "x", &out); err != nil {
		t.Fatal(err)
	}
	if out != "echo:x" {
		t.Fatalf("got %q", out)
	}

	select {
	case c := <-accepted:
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, len("hello raft"))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if string(buf) != "hello raft" {
			t.Fatalf("raft stream got %q", buf)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("raft connection never accepted")
	}
	if got := m.RaftLayer().Addr().String(); got != m.Addr() {
		t.Fatalf("layer addr %q, want %q", got, m.Addr())
	}
}

// Invariant: a raft.NetworkTransport on the layer keeps pre-vote (it
// implements raft.WithPreVote itself).
func TestNetworkTransportKeepsPreVote(t *testing.T) {
	m := listen(t)
	tr := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: m.RaftLayer(), MaxPool: 1, Timeout: time.Second})
	defer tr.Close()
	var trans raft.Transport = tr
	if _, ok := trans.(raft.WithPreVote); !ok {
		t.Fatal("NetworkTransport does not implement raft.WithPreVote")
	}
	if string(tr.LocalAddr()) != m.Addr() {
		t.Fatalf("LocalAddr %q, want %q", tr.LocalAddr(), m.Addr())
	}
}

// Invariant: a handler's error comes back with its code and message; an error
// without a code comes back as INTERNAL_ERROR.
func TestErrorCodesRoundTrip(t *testing.T) {
	m := listen(t)
	m.Handle("coded", func(context.Context, json.RawMessage) (any, error) {
		return nil, codedErr{"VALIDATION_ERROR", "bad name"}
	})
	m.Handle("wrapped", func(context.Context, json.RawMessage) (any, error) {
		return nil, errors.Join(errors.New("context"), codedErr{"NOT_FOUND", "no zone"})
	})
	m.Handle("plain", func(context.Context, json.RawMessage) (any, error) {
		return nil, errors.New("boom")
	})
	m.Handle("panics", func(context.Context, json.RawMessage) (any, error) {
		panic("oops")
	})
	ctx := context.Background()
	for _, tc := range []struct{ method, code, msg string }{
		{"coded", "VALIDATION_ERROR", "bad name"},
		{"wrapped", "NOT_FOUND", "context\nno zone"},
		{"plain", CodeInternal, "boom"},
		{"panics", CodeInternal, `transport: handler "panics" panicked`},
	} {
		err := Call(ctx, m.Addr(), tc.method, nil, nil)
		var re *RemoteError
		if !errors.As(err, &re) {
			t.Fatalf("%s: got %T %v, want *RemoteError", tc.method, err, err)
		}
		if re.Code() != tc.code || re.Error() != tc.msg {
			t.Fatalf("%s: got (%q, %q), want (%q, %q)", tc.method, re.Code(), re.Error(), tc.code, tc.msg)
		}
	}
}

// Invariant: an unknown method is refused with UNKNOWN_METHOD, naming it.
func TestUnknownMethod(t *testing.T) {
	m := listen(t)
	err := Call(context.Background(), m.Addr(), "nope", nil, nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code() != CodeUnknownMethod || !strings.Contains(re.Error(), `"nope"`) {
		t.Fatalf("got %v", err)
	}
}

// Invariant: a frame announcing more than MaxFrameSize is refused before it
// is read (FRAME_TOO_LARGE, then the connection closes), and Call refuses to
// send one.
func TestOversizeFrameRefused(t *testing.T) {
	const maxFrame = 1 << 10
	m, err := listenWithLimit("127.0.0.1:0", "", nil, maxFrame)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	m.Handle("echo", func(_ context.Context, req json.RawMessage) (any, error) { return req, nil })
	c, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	hdr := []byte{ProtoRPC, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:], uint32(maxFrame+1))
	if _, err := c.Write(hdr); err != nil {
		t.Fatal(err)
	}
	b, err := readFrame(c, maxFrame)
	if err != nil {
		t.Fatal(err)
	}
	var rs response
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	if rs.Error == nil || rs.Error.Code() != CodeFrameTooLarge {
		t.Fatalf("got %+v", rs)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection not closed after oversize frame: %v", err)
	}

	err = call(context.Background(), m.Addr(), "echo", strings.Repeat("x", maxFrame), nil, maxFrame)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize request: got %v", err)
	}
	// A response over the limit is replaced by FRAME_TOO_LARGE.
	m.Handle("big", func(context.Context, json.RawMessage) (any, error) { return strings.Repeat("y", maxFrame), nil })
	var re *RemoteError
	if err := call(context.Background(), m.Addr(), "big", nil, nil, maxFrame); !errors.As(err, &re) || re.Code() != CodeFrameTooLarge {
		t.Fatalf("oversize response: got %v", err)
	}
}

// Invariant: Call honours ctx (a slow handler does not hold the caller past
// its deadline, and the handler's ctx carries the deadline); a dead address
// is a *DialError.
func TestCallDeadlineAndDialError(t *testing.T) {
	m := listen(t)
	gotDeadline := make(chan bool, 1)
	m.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
		_, ok := ctx.Deadline()
		gotDeadline <- ok
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Call(ctx, m.Addr(), "slow", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("call took %v", d)
	}
	if !<-gotDeadline {
		t.Fatal("handler ctx has no deadline")
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	err = Call(context.Background(), dead, "x", nil, nil)
	var de *DialError
	if !errors.As(err, &de) {
		t.Fatalf("got %T %v, want *DialError", err, err)
	}
}

// Invariant: Close unblocks a pending Accept, a handler waiting on its ctx,
// and stops the listener.
func TestCloseUnblocks(t *testing.T) {
	m, err := Listen("127.0.0.1:0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	acceptErr := make(chan error, 1)
	go func() {
		_, err := m.RaftLayer().Accept()
		acceptErr <- err
	}()
	inHandler := make(chan struct{})
	m.Handle("block", func(ctx context.Context, _ json.RawMessage) (any, error) {
		close(inHandler)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	callErr := make(chan error, 1)
	go func() { callErr <- Call(context.Background(), m.Addr(), "block", nil, nil) }()
	<-inHandler

	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	for name, ch := range map[string]chan error{"Close": closed, "Accept": acceptErr, "Call": callErr} {
		select {
		case err := <-ch:
			if name == "Close" && err != nil {
				t.Fatalf("Close: %v", err)
			}
			if name != "Close" && err == nil {
				t.Fatalf("%s returned nil after Close", name)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s still blocked after Close", name)
		}
	}
	if _, err := net.DialTimeout("tcp", m.Addr(), time.Second); err == nil {
		t.Fatal("listener still accepting after Close")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Invariant: bad and busy addresses, and an unspecified advertise host, are
// refused with an error naming the address.
func TestListenErrors(t *testing.T) {
	m := listen(t)
	for _, tc := range []struct{ listen, advertise, want string }{
		{"nonsense", "", `"nonsense"`},
		{m.Addr(), "", m.Addr()},
		{"0.0.0.0:0", "", "unspecified"},
		{"127.0.0.1:0", "0.0.0.0:7946", `"0.0.0.0:7946" is unspecified`},
		{"127.0.0.1:0", "[::]:7946", "unspecified"},
		{"127.0.0.1:0", "host-without-port", `"host-without-port"`},
		{"127.0.0.1:0", ":7946", "no host"},
	} {
		m2, err := Listen(tc.listen, tc.advertise, nil)
		if err == nil {
			m2.Close()
			t.Fatalf("Listen(%q, %q) succeeded", tc.listen, tc.advertise)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("Listen(%q, %q): %v, want it to mention %s", tc.listen, tc.advertise, err, tc.want)
		}
	}
	m3, err := Listen("127.0.0.1:0", "node1.example:7946", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m3.Close()
	if m3.Addr() != "node1.example:7946" || m3.RaftLayer().Addr().String() != "node1.example:7946" {
		t.Fatalf("advertise not used: %s", m3.Addr())
	}
}

// Invariant: one connection carries several sequential calls (the server
// loop), and a silent connection does not block Close.
func TestSequentialFramesOnOneConn(t *testing.T) {
	m := listen(t)
	m.Handle("inc", func(_ context.Context, req json.RawMessage) (any, error) {
		var n int
		if err := json.Unmarshal(req, &n); err != nil {
			return nil, err
		}
		return n + 1, nil
	})
	c, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte{ProtoRPC}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		body, _ := json.Marshal(i)
		req, _ := json.Marshal(request{Method: "inc", Body: body})
		if err := writeFrame(c, req); err != nil {
			t.Fatal(err)
		}
		b, err := readFrame(c, MaxFrameSize)
		if err != nil {
			t.Fatal(err)
		}
		var rs response
		if err := json.Unmarshal(b, &rs); err != nil || rs.Error != nil || string(rs.Body) != string(rune('1'+i)) {
			t.Fatalf("call %d: %s %v", i, b, err)
		}
	}
	silent, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
}
