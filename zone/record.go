package zone

// Record is one resource record as the API, the FSM log and snapshots hold it.
//
// Name is the owner as a canonical FQDN (lower case, trailing dot). Value is
// the record data in presentation format without the priority: for MX the
// exchange ("mail.example.com."), for SRV "weight port target" ("5 443
// sip.example.com."). Priority carries the MX preference or SRV priority.
type Record struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	TTL      uint32 `json:"ttl"`
	Priority uint16 `json:"priority,omitempty"`
	Value    string `json:"value"`
}

// SOA holds the editable SOA fields of a zone. The serial is not here: it is
// derived from the Raft index of the zone's last change.
type SOA struct {
	MName   string `json:"mname"`
	RName   string `json:"rname"`
	Refresh uint32 `json:"refresh"`
	Retry   uint32 `json:"retry"`
	Expire  uint32 `json:"expire"`
	Minimum uint32 `json:"minimum"` // negative-caching TTL (RFC 2308)
	TTL     uint32 `json:"ttl"`
}

// ChangeOp says what a Change does.
type ChangeOp string

// The change operations.
const (
	OpAdd    ChangeOp = "add"    // Record is new (its ID must not exist)
	OpUpdate ChangeOp = "update" // Record replaces the record with the same ID
	OpDelete ChangeOp = "delete" // the record with ID is removed
)

// Change is one step of an atomic change set on one zone.
type Change struct {
	Op     ChangeOp `json:"op"`
	Record Record   `json:"record,omitempty"`
	ID     string   `json:"id,omitempty"`
}
