package tree

import "unicode/utf16"

// childSet keeps a znode's child names in the iteration order of the Java
// HashSet<String>(8) Apache's DataNode uses, because getChildren returns
// them in that order (and snapshots are written in it): buckets of a
// power-of-two table indexed by the spread String.hashCode, insertion
// order within a bucket, the table doubling past 3/4 load (entries of a
// bucket split in order), and a bucket reaching 9 entries in a table
// smaller than 64 doubling it too (HashMap.treeifyBin). Red-black tree bins
// (9+ colliding names in a table of 64 or more) keep list order here.
type childSet struct {
	buckets [][]string
	size    int
	initCap int // table size at the first add; 0 means 8 (new HashSet<String>(8))
}

const childSetInitialCap = 8 // new HashSet<String>(8)

// newJavaSet returns an empty set whose table starts at initCap (a power of
// two): 16 for new HashSet<>().
func newJavaSet(initCap int) childSet { return childSet{initCap: initCap} }

// javaStringHash is String.hashCode over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			h = 0
			for _, u := range utf16.Encode([]rune(s)) {
				h = 31*h + int32(u)
			}
			return h
		}
		h = 31*h + int32(s[i])
	}
	return h
}

// JavaStringHash exports String.hashCode for other packages' Java-order needs.
func JavaStringHash(s string) int32 { return javaStringHash(s) }

func spread(name string) uint32 {
	h := uint32(javaStringHash(name))
	return h ^ (h >> 16)
}

func (s *childSet) index(h uint32) int { return int(h) & (len(s.buckets) - 1) }

func (s *childSet) has(name string) bool {
	if s.size == 0 {
		return false
	}
	for _, n := range s.buckets[s.index(spread(name))] {
		if n == name {
			return true
		}
	}
	return false
}

func (s *childSet) add(name string) bool {
	if s.buckets == nil {
		n := s.initCap
		if n == 0 {
			n = childSetInitialCap
		}
		s.buckets = make([][]string, n)
	}
	h := spread(name)
	i := s.index(h)
	for _, n := range s.buckets[i] {
		if n == name {
			return false
		}
	}
	s.buckets[i] = append(s.buckets[i], name)
	if len(s.buckets[i]) >= 9 && len(s.buckets) < 64 {
		s.resize()
	}
	s.size++
	if s.size > len(s.buckets)*3/4 {
		s.resize()
	}
	return true
}

func (s *childSet) resize() {
	oldCap := len(s.buckets)
	nb := make([][]string, oldCap*2)
	for j, b := range s.buckets {
		for _, n := range b {
			if int(spread(n))&oldCap == 0 {
				nb[j] = append(nb[j], n)
			} else {
				nb[j+oldCap] = append(nb[j+oldCap], n)
			}
		}
	}
	s.buckets = nb
}

func (s *childSet) remove(name string) bool {
	if s.size == 0 {
		return false
	}
	i := s.index(spread(name))
	b := s.buckets[i]
	for k, n := range b {
		if n == name {
			s.buckets[i] = append(b[:k:k], b[k+1:]...)
			s.size--
			return true
		}
	}
	return false
}

// list returns the names in Java iteration order.
func (s *childSet) list() []string {
	out := make([]string, 0, s.size)
	for _, b := range s.buckets {
		out = append(out, b...)
	}
	return out
}

func (s *childSet) clone() childSet {
	if s.buckets == nil {
		return childSet{initCap: s.initCap}
	}
	nb := make([][]string, len(s.buckets))
	for i, b := range s.buckets {
		if len(b) > 0 {
			nb[i] = append([]string(nil), b...)
		}
	}
	return childSet{buckets: nb, size: s.size, initCap: s.initCap}
}

// javaCloneList is the iteration order of HashSet.clone(): the entries are
// re-inserted, in this set's order, into a table sized for them
// (HashMap.putMapEntries: tableSizeFor(size/0.75 + 1)).
func (s *childSet) javaCloneList() []string {
	t := int(float32(s.size)/0.75 + 1)
	n := 1
	for n < t {
		n <<= 1
	}
	c := newJavaSet(n)
	for _, name := range s.list() {
		c.add(name)
	}
	return c.list()
}
