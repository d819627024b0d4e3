package cluster

// Error is an error with a stable code, understood by the API's error
// mapping (zone.CodeOf reads Code()). Errors that come back from another
// node over the cluster port are rebuilt as *Error with the remote code.
type Error struct {
	code string
	msg  string
	// wrapped, when set, is what the error stands for in another package
	// (zone.ErrInvalid for a VALIDATION_ERROR received from the leader, or
	// context.DeadlineExceeded), so errors.Is works across nodes too.
	wrapped error
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the error this one stands for, if any.
func (e *Error) Unwrap() error { return e.wrapped }

// Code returns the stable code (for example "NO_QUORUM").
func (e *Error) Code() string { return e.code }

// Is makes errors.Is match any *Error with the same code, so a sentinel
// matches errors rebuilt from a remote node.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.code == e.code
}

// Sentinel errors.
var (
	// ErrNoQuorum: no leader is known, or the write was not committed in
	// time; the node is read-only until a quorum is back.
	ErrNoQuorum = &Error{code: "NO_QUORUM", msg: "no quorum: this node is read-only (no leader, or the leader cannot reach a majority); DNS keeps answering from the last applied state"}
	// ErrNotFound: the node named in a remove is not a member.
	ErrNotFound = &Error{code: "NOT_FOUND", msg: "no such cluster member"}
	// ErrInvalid: a malformed cluster request (empty id, bad address).
	ErrInvalid = &Error{code: "INVALID_REQUEST", msg: "invalid cluster request"}
	// ErrInternal: anything else that went wrong inside Raft.
	ErrInternal = &Error{code: "INTERNAL_ERROR", msg: "internal cluster error"}
)

// NewError returns an error with code and message (used to rebuild errors
// received from other nodes, and to wrap details onto a sentinel's code).
func NewError(code, msg string) *Error { return &Error{code: code, msg: msg} }
