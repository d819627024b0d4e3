package transport

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"time"
)

// MaxFrameSize bounds one RPC message (request or response), header excluded.
const MaxFrameSize = 64 << 20

// Timeouts of the RPC protocol.
const (
	// DialTimeout bounds connecting to a peer (less when ctx ends sooner).
	DialTimeout = 2 * time.Second
	// DefaultCallTimeout bounds a Call whose ctx has no deadline.
	DefaultCallTimeout = 30 * time.Second
	// idleTimeout closes a server connection that sends no request.
	idleTimeout = 2 * time.Minute
	// writeTimeout bounds writing one response.
	writeTimeout = 10 * time.Second
)

// Codes the protocol itself produces.
const (
	CodeInternal      = "INTERNAL_ERROR"
	CodeUnknownMethod = "UNKNOWN_METHOD"
	CodeBadRequest    = "BAD_REQUEST"
	CodeFrameTooLarge = "FRAME_TOO_LARGE"
	// CodeDeadline marks a handler that gave up because the caller's
	// deadline (carried in the request) passed.
	CodeDeadline = "DEADLINE_EXCEEDED"
)

// Handler answers one RPC method. req is the caller's JSON body (or null).
// The returned value is sent as JSON; a returned error is sent as
// {code, message} (see RemoteError). ctx ends when the caller's deadline
// passes or the Mux closes.
type Handler func(ctx context.Context, req json.RawMessage) (any, error)

// RemoteError is an error returned by a handler on another node.
type RemoteError struct {
	ErrCode string `json:"code"`
	Message string `json:"message"`
}

func (e *RemoteError) Error() string { return e.Message }

// Code returns the code the remote handler's error carried.
func (e *RemoteError) Code() string { return e.ErrCode }

// Is makes errors.Is(err, context.DeadlineExceeded) hold when the remote
// handler ran out of the caller's time.
func (e *RemoteError) Is(target error) bool {
	return target == context.DeadlineExceeded && e.ErrCode == CodeDeadline
}

// DialError means the peer could not be reached: the request was never
// delivered, so it is always safe to retry.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("transport: cannot reach %s: %v", e.Addr, e.Err)
}
func (e *DialError) Unwrap() error { return e.Err }

// ErrFrameTooLarge is returned for a message over MaxFrameSize.
var ErrFrameTooLarge = errors.New("transport: frame over the size limit")

type request struct {
	Method    string          `json:"m"`
	TimeoutMS int64           `json:"t,omitempty"` // the caller's remaining time
	Body      json.RawMessage `json:"b,omitempty"`
}

type response struct {
	Body  json.RawMessage `json:"b,omitempty"`
	Error *RemoteError    `json:"e,omitempty"`
}

// Handle registers h for method, replacing any earlier handler.
func (m *Mux) Handle(method string, h Handler) {
	m.mu.Lock()
	m.handlers[method] = h
	m.mu.Unlock()
}

func (m *Mux) handler(method string) Handler {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.handlers[method]
}

// serveRPC answers requests on c until the peer closes it, it idles out, or
// the Mux closes.
func (m *Mux) serveRPC(c *conn) {
	defer c.Close()
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		b, err := readFrame(c, m.maxFrame)
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) {
				m.logger.Warn("cluster rpc: frame too large, closing", "remote", c.RemoteAddr().String(), "err", err)
				m.writeResponse(c, response{Error: &RemoteError{ErrCode: CodeFrameTooLarge, Message: err.Error()}})
			}
			return
		}
		var req request
		if err := json.Unmarshal(b, &req); err != nil {
			m.writeResponse(c, response{Error: &RemoteError{ErrCode: CodeBadRequest, Message: "transport: undecodable request: " + err.Error()}})
			return
		}
		if !m.writeResponse(c, m.dispatch(req)) {
			return
		}
	}
}

func (m *Mux) dispatch(req request) (resp response) {
	h := m.handler(req.Method)
	if h == nil {
		return response{Error: &RemoteError{ErrCode: CodeUnknownMethod, Message: fmt.Sprintf("transport: unknown method %q", req.Method)}}
	}
	ctx := m.ctx
	if req.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMS)*time.Millisecond)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			m.logger.Error("cluster rpc: handler panicked", "method", req.Method, "panic", p, "stack", string(debug.Stack()))
			resp = response{Error: &RemoteError{ErrCode: CodeInternal, Message: fmt.Sprintf("transport: handler %q panicked", req.Method)}}
		}
	}()
	body := req.Body
	if len(body) == 0 {
		body = json.RawMessage("null")
	}
	out, err := h(ctx, body)
	if err != nil {
		return response{Error: toRemote(err)}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return response{Error: &RemoteError{ErrCode: CodeInternal, Message: fmt.Sprintf("transport: encoding the response of %q: %v", req.Method, err)}}
	}
	return response{Body: b}
}

// toRemote turns a handler's error into its wire form.
func toRemote(err error) *RemoteError {
	code := CodeInternal
	var c interface{ Code() string }
	if errors.As(err, &c) && c.Code() != "" {
		code = c.Code()
	} else if errors.Is(err, context.DeadlineExceeded) {
		code = CodeDeadline
	}
	return &RemoteError{ErrCode: code, Message: err.Error()}
}

// writeResponse sends resp; false when the connection is unusable.
func (m *Mux) writeResponse(c net.Conn, resp response) bool {
	b, err := json.Marshal(resp)
	if err == nil && len(b) > m.maxFrame {
		b, err = json.Marshal(response{Error: &RemoteError{ErrCode: CodeFrameTooLarge, Message: fmt.Sprintf("transport: response of %d bytes is over the %d-byte limit", len(b), m.maxFrame)}})
	}
	if err != nil {
		m.logger.Error("cluster rpc: encoding a response", "err", err)
		return false
	}
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := writeFrame(c, b); err != nil {
		m.logger.Debug("cluster rpc: writing a response", "remote", c.RemoteAddr().String(), "err", err)
		return false
	}
	return true
}

// Call invokes method on the node at addr: req is sent as JSON and the
// answer decoded into resp (which may be nil). It dials within DialTimeout
// and gives up when ctx ends (or after DefaultCallTimeout when ctx has no
// deadline). A handler's error comes back as *RemoteError; a failed dial as
// *DialError; anything else is a connection failure.
func Call(ctx context.Context, addr, method string, req, resp any) error {
	return call(ctx, addr, method, req, resp, MaxFrameSize)
}

// call is Call with a frame limit (tests lower it).
func call(ctx context.Context, addr, method string, req, resp any, maxFrame int) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("transport: encoding %s request: %w", method, err)
	}
	if len(body) > maxFrame {
		return fmt.Errorf("transport: %s request of %d bytes: %w", method, len(body), ErrFrameTooLarge)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultCallTimeout)
	}
	r := request{Method: method, Body: body}
	if ms := time.Until(deadline).Milliseconds(); ms > 0 {
		r.TimeoutMS = ms
	}
	frame, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("transport: encoding %s request: %w", method, err)
	}
	if len(frame) > maxFrame {
		return fmt.Errorf("transport: %s request of %d bytes: %w", method, len(frame), ErrFrameTooLarge)
	}

	d := net.Dialer{Timeout: DialTimeout, Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("transport: %s on %s: %w", method, addr, ctx.Err())
		}
		return &DialError{Addr: addr, Err: err}
	}
	defer c.Close()
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	out := make([]byte, 0, 1+4+len(frame))
	out = append(out, ProtoRPC)
	out = binary.BigEndian.AppendUint32(out, uint32(len(frame)))
	out = append(out, frame...)
	if _, err := c.Write(out); err != nil {
		return callErr(ctx, method, addr, err)
	}
	b, err := readFrame(c, maxFrame)
	if err != nil {
		return callErr(ctx, method, addr, err)
	}
	var rs response
	if err := json.Unmarshal(b, &rs); err != nil {
		return fmt.Errorf("transport: %s on %s: undecodable response: %w", method, addr, err)
	}
	if rs.Error != nil {
		return rs.Error
	}
	if resp != nil && len(rs.Body) > 0 {
		if err := json.Unmarshal(rs.Body, resp); err != nil {
			return fmt.Errorf("transport: %s on %s: decoding the response: %w", method, addr, err)
		}
	}
	return nil
}

func callErr(ctx context.Context, method, addr string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("transport: %s on %s: %w", method, addr, ctx.Err())
	}
	// The connection deadline is ctx's deadline: when it fires first, report
	// it as ctx's.
	var ne net.Error
	if _, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("transport: %s on %s: %w", method, addr, context.DeadlineExceeded)
	}
	return fmt.Errorf("transport: %s on %s: %w", method, addr, err)
}

// writeFrame writes one length-prefixed frame; callers check their own
// (possibly lower) limit first, this is the wire format's bound.
func writeFrame(w io.Writer, b []byte) error {
	if len(b) > MaxFrameSize {
		return ErrFrameTooLarge
	}
	out := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(out, uint32(len(b)))
	_, err := w.Write(append(out, b...))
	return err
}

func readFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w (announced %d)", ErrFrameTooLarge, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
