package zone

import (
	"fmt"
	"slices"

	"github.com/benbjohnson/immutable"
)

// View is an immutable snapshot of every zone. The zero value is not usable;
// start from Empty.
type View struct {
	zones *immutable.Map[string, *Zone]
	keys  *immutable.SortedMap[string, TSIGKey] // TSIG keys by canonical name
}

// Empty returns a View with no zones.
func Empty() *View {
	return &View{zones: immutable.NewMap[string, *Zone](stringHasher{}), keys: immutable.NewSortedMap[string, TSIGKey](nil)}
}

// withZones returns a copy of v holding zones.
func (v *View) withZones(zones *immutable.Map[string, *Zone]) *View {
	c := *v
	c.zones = zones
	return &c
}

// withZone returns a copy of v holding z (replacing the zone of its name).
func (v *View) withZone(z *Zone) *View { return v.withZones(v.zones.Set(z.name, z)) }

// Zones returns every zone, sorted by name.
func (v *View) Zones() []*Zone {
	out := make([]*Zone, 0, v.zones.Len())
	it := v.zones.Iterator()
	for !it.Done() {
		_, z, _ := it.Next()
		out = append(out, z)
	}
	slices.SortFunc(out, func(a, b *Zone) int { return compareNames(a.name, b.name) })
	return out
}

// Len returns the number of zones.
func (v *View) Len() int { return v.zones.Len() }

// Zone returns the zone whose apex is name (any case, trailing dot optional),
// or nil.
func (v *View) Zone(name string) *Zone {
	name = lower(name)
	if name == "" || name[len(name)-1] != '.' {
		name += "."
	}
	z, _ := v.zones.Get(name)
	return z
}

// FindZone returns the closest enclosing zone of qname (any case), or nil
// when resolvx is not authoritative for it.
func (v *View) FindZone(qname string) *Zone {
	for name := lower(qname); name != ""; name = ParentName(name) {
		if z, ok := v.zones.Get(name); ok {
			return z
		}
	}
	return nil
}

// CreateZone returns a View with a new, empty zone.
func (v *View) CreateZone(name string, soa SOA, index uint64) (*View, error) {
	apex, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	if _, ok := v.zones.Get(apex); ok {
		return nil, fmt.Errorf("%w: zone %s", ErrExists, apex)
	}
	if soa, err = ValidateSOA(soa); err != nil {
		return nil, err
	}
	return v.withZone(newZone(apex, soa, index)), nil
}

// DeleteZone returns a View without the zone.
func (v *View) DeleteZone(name string) (*View, error) {
	z := v.Zone(name)
	if z == nil {
		return nil, fmt.Errorf("%w: zone %s", ErrNotFound, Printable(name))
	}
	return v.withZones(v.zones.Delete(z.name)), nil
}

// SetSOA returns a View in which the zone has new SOA settings.
func (v *View) SetSOA(name string, soa SOA, index uint64) (*View, error) {
	z := v.Zone(name)
	if z == nil {
		return nil, fmt.Errorf("%w: zone %s", ErrNotFound, Printable(name))
	}
	soa, err := ValidateSOA(soa)
	if err != nil {
		return nil, err
	}
	c := *z
	c.soa = soa
	nz := c.withSerial(index)
	return v.withZone(nz.withDelta(z, deltaOf(z, nz, nil))), nil
}

// Apply returns a View with the changes applied to one zone, all of them or
// none: the first failing change rejects the whole set and v is unchanged.
func (v *View) Apply(zoneName string, changes []Change, index uint64) (*View, error) {
	z := v.Zone(zoneName)
	if z == nil {
		return nil, fmt.Errorf("%w: zone %s", ErrNotFound, Printable(zoneName))
	}
	e := editZone(z)
	e.touched = map[rrsetKey]struct{}{}
	for i, c := range changes {
		if err := e.apply(c); err != nil {
			if len(changes) == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("change %d of %d: %w", i+1, len(changes), err)
		}
	}
	nz := e.finish(z.soa, z.created, index)
	nz.transfer, nz.allow = z.transfer, z.allow
	return v.withZone(nz.withDelta(z, deltaOf(z, nz, e.touched))), nil
}

// Replace returns a View in which the zone holds exactly recs (an import).
// Every record needs an ID. All or nothing.
func (v *View) Replace(zoneName string, recs []Record, index uint64) (*View, error) {
	z := v.Zone(zoneName)
	if z == nil {
		return nil, fmt.Errorf("%w: zone %s", ErrNotFound, Printable(zoneName))
	}
	nz, err := BuildZone(z.name, z.soa, z.created, index, recs)
	if err != nil {
		return nil, err
	}
	nz.transfer, nz.allow = z.transfer, z.allow
	touched := map[rrsetKey]struct{}{}
	z.allRRsets(touched)
	nz.allRRsets(touched)
	return v.withZone(nz.withDelta(z, deltaOf(z, nz, touched))), nil
}

// PutZone returns a View holding the given zone as it is, replacing any zone
// of that name (used to restore snapshots).
func (v *View) PutZone(z *Zone) *View {
	return v.withZone(z)
}

// BuildZone builds a whole zone from records in one pass (imports, snapshot
// restores). created and index are the Raft indexes of its creation and last
// change.
func BuildZone(name string, soa SOA, created, index uint64, recs []Record) (*Zone, error) {
	apex, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	if soa, err = ValidateSOA(soa); err != nil {
		return nil, err
	}
	e := buildZone(apex)
	for i, r := range recs {
		if err := e.add(r); err != nil {
			return nil, fmt.Errorf("record %d of %d (%s %s): %w", i+1, len(recs), brief(r.Name), brief(r.Type), err)
		}
	}
	return e.finish(soa, created, index), nil
}
