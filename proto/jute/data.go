package jute

// ID is an ACL identity: a scheme and an id within it.
type ID struct {
	Scheme string
	ID     string
}

func (r *ID) Encode(e *Encoder) { e.String(r.Scheme); e.String(r.ID) }
func (r *ID) Decode(d *Decoder) { r.Scheme = d.String(); r.ID = d.String() }

// ACL grants Perms to ID.
type ACL struct {
	Perms int32
	ID    ID
}

func (r *ACL) Encode(e *Encoder) { e.Int(r.Perms); r.ID.Encode(e) }
func (r *ACL) Decode(d *Decoder) { r.Perms = d.Int(); r.ID.Decode(d) }

// EncodeACLs writes a vector<ACL>; nil writes -1.
func EncodeACLs(e *Encoder, acl []ACL) {
	if acl == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(acl)))
	for i := range acl {
		acl[i].Encode(e)
	}
}

// DecodeACLs reads a vector<ACL> (an ACL takes at least 12 bytes).
func DecodeACLs(d *Decoder) []ACL {
	n, ok := d.VectorLen(12)
	if !ok {
		return nil
	}
	out := make([]ACL, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		out[i].Decode(d)
	}
	return out
}

// Stat is the znode metadata returned to clients (80 bytes on the wire... 68 + 4 longs).
type Stat struct {
	Czxid          int64
	Mzxid          int64
	Ctime          int64
	Mtime          int64
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	DataLength     int32
	NumChildren    int32
	Pzxid          int64
}

func (r *Stat) Encode(e *Encoder) {
	e.Long(r.Czxid)
	e.Long(r.Mzxid)
	e.Long(r.Ctime)
	e.Long(r.Mtime)
	e.Int(r.Version)
	e.Int(r.Cversion)
	e.Int(r.Aversion)
	e.Long(r.EphemeralOwner)
	e.Int(r.DataLength)
	e.Int(r.NumChildren)
	e.Long(r.Pzxid)
}

func (r *Stat) Decode(d *Decoder) {
	r.Czxid = d.Long()
	r.Mzxid = d.Long()
	r.Ctime = d.Long()
	r.Mtime = d.Long()
	r.Version = d.Int()
	r.Cversion = d.Int()
	r.Aversion = d.Int()
	r.EphemeralOwner = d.Long()
	r.DataLength = d.Int()
	r.NumChildren = d.Int()
	r.Pzxid = d.Long()
}

// StatPersisted is the znode metadata stored in snapshots.
type StatPersisted struct {
	Czxid          int64
	Mzxid          int64
	Ctime          int64
	Mtime          int64
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	Pzxid          int64
}

func (r *StatPersisted) Encode(e *Encoder) {
	e.Long(r.Czxid)
	e.Long(r.Mzxid)
	e.Long(r.Ctime)
	e.Long(r.Mtime)
	e.Int(r.Version)
	e.Int(r.Cversion)
	e.Int(r.Aversion)
	e.Long(r.EphemeralOwner)
	e.Long(r.Pzxid)
}

func (r *StatPersisted) Decode(d *Decoder) {
	r.Czxid = d.Long()
	r.Mzxid = d.Long()
	r.Ctime = d.Long()
	r.Mtime = d.Long()
	r.Version = d.Int()
	r.Cversion = d.Int()
	r.Aversion = d.Int()
	r.EphemeralOwner = d.Long()
	r.Pzxid = d.Long()
}

// ClientInfo is one identity reported by whoAmI.
type ClientInfo struct {
	AuthScheme string
	User       string
}

func (r *ClientInfo) Encode(e *Encoder) { e.String(r.AuthScheme); e.String(r.User) }
func (r *ClientInfo) Decode(d *Decoder) { r.AuthScheme = d.String(); r.User = d.String() }

// DataNode is a znode as stored in a snapshot: data, a reference into the
// snapshot's ACL cache, and the persisted stat.
type DataNode struct {
	Data []byte
	ACL  int64
	Stat StatPersisted
}

func (r *DataNode) Encode(e *Encoder) { e.Buffer(r.Data); e.Long(r.ACL); r.Stat.Encode(e) }
func (r *DataNode) Decode(d *Decoder) { r.Data = d.Buffer(); r.ACL = d.Long(); r.Stat.Decode(d) }

// FileHeader opens transaction logs and snapshots.
type FileHeader struct {
	Magic   int32
	Version int32
	DBID    int64
}

func (r *FileHeader) Encode(e *Encoder) { e.Int(r.Magic); e.Int(r.Version); e.Long(r.DBID) }
func (r *FileHeader) Decode(d *Decoder) { r.Magic = d.Int(); r.Version = d.Int(); r.DBID = d.Long() }
