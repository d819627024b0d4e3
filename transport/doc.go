// Package transport carries all traffic between resolvx nodes over one TCP
// port per node.
//
// The first byte of every connection selects the protocol:
//
//   - ProtoRaft: the rest of the connection belongs to Raft. Mux.RaftLayer
//     returns a raft.StreamLayer whose Accept yields these connections and
//     whose Dial writes the byte first; use it with
//     raft.NewNetworkTransportWithConfig. NetworkTransport implements
//     raft.WithPreVote itself, so pre-vote stays on.
//   - ProtoRPC: a small request/response protocol for cluster RPC (join,
//     forwarded writes, read index, status). Every message is a frame: a
//     4-byte big-endian length followed by that many bytes of JSON, at most
//     MaxFrameSize. A connection carries any number of sequential calls.
//
// A handler registered with Mux.Handle answers one method. An error it
// returns travels as {code, message}: the code is taken from the error's
// Code() method when it has one, else "INTERNAL_ERROR". On the caller, Call
// returns it as a *RemoteError with the same Code() and message, so each
// layer can rebuild its own error types without this package knowing them.
// Failures of the connection itself (dial, I/O, deadlines) are plain errors;
// a failed dial is a *DialError, which tells the caller the request was
// never delivered.
//
// Every goroutine belongs to the Mux: Close stops the listener, closes every
// connection it accepted or dialled, and waits for them.
package transport
