package gtm

import (
	"github.com/miekg/dns"
)

// Location is where a client is, as a geographic policy needs it.
type Location struct {
	Country   string // ISO 3166-1 alpha-2, upper case; "" when unknown
	Continent string // NA, SA, EU, AF, AS, OC, AN; "" when unknown
}

// Table is the compiled, immutable index the DNS server answers policy
// names from: every policy, bound at its owner name, with its committed
// verdicts and its answer records built once. The FSM compiles a new one
// when a policy or a verdict changes; queries only read it.
type Table struct {
	// TODO(issue 5): implemented in table.go by the answer-path work.
}

// Bindings are the policies bound at one owner name: at most one per
// answer type.
type Bindings struct {
	A, AAAA, CNAME *Bound
}

// Bound is one policy with its committed verdicts and prebuilt records.
type Bound struct {
	Policy   Policy
	Verdicts Verdicts
}

// Compile builds the table of policies (validated, zone canonical) with
// their committed verdicts (verdicts returns the zero Verdicts for a policy
// that has none).
func Compile(policies []Policy, verdicts func(policy string) Verdicts) *Table {
	return &Table{}
}

// Find returns the policies bound at name (any letter case), or nil.
func (t *Table) Find(name string) *Bindings { return nil }

// HasBelow reports whether some policy's owner lies strictly below name.
func (t *Table) HasBelow(name string) bool { return false }

// AppendAnswer appends to dst the records of the endpoints Select picks
// for c (owner: the policy's owner name; TTL: the policy's), and returns
// them with the decision.
func (b *Bound) AppendAnswer(dst []dns.RR, c Client) ([]dns.RR, Decision) {
	return dst, Decision{}
}
