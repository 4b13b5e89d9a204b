package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// recordVersion changes when the per-namespace files change meaning; files
// of another version are ignored, and removed by Sweep. Version 1 files
// were keyed by the namespace inode, which the kernel reuses.
const recordVersion = 2

// recordHeader starts every per-namespace file: whose it is.
type recordHeader struct {
	Version int `json:"version"`
	NetNS
}

func header(n NetNS) recordHeader {
	n.Boot = bootID()
	return recordHeader{Version: recordVersion, NetNS: n}
}

// bootSlack allows for the wall clock's imprecision when a file's time is
// compared with the boot time.
const bootSlack = 2 * time.Second

// mine reports whether a file's header is the calling namespace's.
func (h recordHeader) mine(n NetNS) bool { return h.Version == recordVersion && n.Same(h.NetNS) }

// recordDirs are the directories of per-namespace files under the cache
// directory: the decisions themselves (netns-<key>.json), and the
// subdirectories of records.
func recordDirs(cacheDir string) []string {
	return []string{cacheDir, filepath.Join(cacheDir, createdDir), filepath.Join(cacheDir, guardOffDir), filepath.Join(cacheDir, dialectDir)}
}

// sweepEvery bounds how often Resolve sweeps (it does so only when it makes
// a fresh decision anyway).
const sweepEvery = 5 * time.Minute

// sweepStamp is touched after each sweep.
const sweepStamp = ".swept"

// maybeSweep sweeps when the last sweep is older than sweepEvery.
func maybeSweep(cacheDir string, current NetNS) {
	stamp := filepath.Join(cacheDir, sweepStamp)
	if fi, err := os.Stat(stamp); err == nil && time.Since(fi.ModTime()) < sweepEvery {
		return
	}
	Sweep(cacheDir, current)
	now := time.Now()
	if err := os.Chtimes(stamp, now, now); errors.Is(err, os.ErrNotExist) {
		if f, err := os.OpenFile(stamp, os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
			f.Close()
		}
	}
}

// Sweep removes the per-namespace files (decisions, created chains, guard
// records) of namespaces that are gone, and returns their paths. A file is
// gone when it was written in an earlier boot, by an older version (keyed
// by inode), for current's inode under another identity (the kernel reused
// the inode: the old namespace is dead), or for an inode no process and no
// namespace mount visible here holds, provided every process could be
// looked at (otherwise that last test is skipped: a namespace this process
// cannot see must not lose its records).
func Sweep(cacheDir string, current NetNS) []string {
	live, complete := liveNetNSInodes()
	var removed []string
	for _, dir := range recordDirs(cacheDir) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
				continue
			}
			if dir == cacheDir && !strings.HasPrefix(name, "netns-") {
				continue
			}
			path := filepath.Join(dir, name)
			if !stale(path, current, live, complete) {
				continue
			}
			if os.Remove(path) == nil {
				removed = append(removed, path)
			}
			os.Remove(path + ".lock")
		}
	}
	return removed
}

func stale(path string, current NetNS, live map[uint64]bool, complete bool) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var h recordHeader
	if json.Unmarshal(data, &h) != nil || h.Version != recordVersion || h.Boot == "" {
		return true // an older format, keyed by inode, or torn: never trusted
	}
	switch {
	case bootID() != "" && h.Boot != bootID():
		return true
	case h.Inode == current.Inode && current.Key() != "" && !current.Same(h.NetNS):
		return true
	case h.Initial:
		return false // the initial namespace never dies
	case complete && !live[h.Inode]:
		return true
	}
	return false
}

// liveNetNSInodes lists the network namespaces that exist as far as this
// process can see: those of every process, and those pinned by a mount
// (ip netns add, CNI). complete is false when some process could not be
// looked at.
func liveNetNSInodes() (map[uint64]bool, bool) {
	live := map[uint64]bool{}
	complete := true
	if ino, err := nsInode("/proc/self/ns/net"); err == nil {
		live[ino] = true
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return live, false
	}
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		var st unix.Stat_t
		switch err := unix.Stat("/proc/"+p.Name()+"/ns/net", &st); {
		case err == nil:
			live[st.Ino] = true
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ESRCH):
			// The process ended meanwhile (or is a zombie).
		case p.Name() == "1":
			// Some sandboxes hide the host's PID 1 even from root. It
			// lives in the initial namespace, which kernel threads (also
			// listed here) hold as well.
		default:
			complete = false
		}
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return live, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i, w := range f {
			if w == "-" && i+1 < len(f) && f[i+1] == "nsfs" && len(f) > 4 {
				var st unix.Stat_t
				if unix.Stat(unescapeMountinfo(f[4]), &st) == nil {
					live[st.Ino] = true
				}
				break
			}
		}
	}
	return live, complete
}

// headed is a record type that starts with the header (it embeds
// recordHeader).
type headed interface{ head() recordHeader }

func (h recordHeader) head() recordHeader { return h }

// readRecord reads a per-namespace file into v when it belongs to n; a
// missing file, or another namespace's, is (false, nil) and leaves v zero.
// The file is decoded once (this is on every call's path), header and body
// together, and the header checked after.
func readRecord[T any, PT interface {
	*T
	headed
}](path string, n NetNS, v PT) (bool, error) {
	ok, err := readRecordOnce(path, n, v)
	if !ok {
		*v = *new(T)
	}
	return ok, err
}

func readRecordOnce[T any, PT interface {
	*T
	headed
}](path string, n NetNS, v PT) (bool, error) {
	data, mtime, err := readSmallFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Written before this boot: cookies start again at each boot, so it
	// may be another namespace's (a cache directory that is not a tmpfs).
	if mtime.Before(bootTime().Add(-bootSlack)) {
		return false, nil
	}
	if lr, ok := any(v).(liteReader); ok {
		// The fast reader (jsonlite.go) first; encoding/json when it
		// gives up.
		if doc, err := parseJSON(data, lr.liteSkip()...); err == nil && doc.kind == 'o' {
			f := jsonFields{v: doc}
			lr.readLite(&f)
			if f.err == nil {
				return v.head().mine(n), nil
			}
		}
		*v = *new(T)
	}
	if err := json.Unmarshal(data, v); err != nil {
		var h recordHeader
		if json.Unmarshal(data, &h) != nil || !h.mine(n) {
			return false, nil // torn, or another namespace's in an older shape
		}
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	if !v.head().mine(n) {
		return false, nil
	}
	return true, nil
}

// liteReader is a record type the fast reader can fill (jsonlite.go):
// readLite takes the fields from the parsed document, and leaves f.err set
// when they are not exactly what encoding/json would have read.
type liteReader interface {
	readLite(f *jsonFields)
	// liteSkip names members (at any depth) readLite never looks at,
	// which the parser then only checks.
	liteSkip() []string
}

// readSmallFile reads a record file with plain system calls: os.Open would
// set up the runtime's network poller for it, a cost every call would pay
// for one small read.
func readSmallFile(path string) ([]byte, time.Time, error) {
	fd, err := openRetry(path)
	if err != nil {
		return nil, time.Time{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, time.Time{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	mtime := time.Unix(st.Mtim.Unix())
	data := make([]byte, 0, st.Size+512)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := unix.Read(fd, data[len(data):cap(data)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, time.Time{}, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return data, mtime, nil
		}
		data = data[:len(data)+n]
	}
}

func openRetry(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// updateRecord rewrites the calling namespace's file in dir (under cacheDir)
// with change applied to its current contents (zero when absent or not this
// namespace's), atomically, under the file's lock.
func updateRecord[T any](cacheDir, dir string, change func(*T)) error {
	n, err := CurrentNetNS()
	if err != nil {
		return err
	}
	path := filepath.Join(cacheDir, dir, n.Key()+".json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	var rec bodyRecord[T]
	if ok, err := readRecord(path, n, &rec); err != nil || !ok {
		rec.Body = *new(T)
	}
	rec.recordHeader = header(n)
	change(&rec.Body)
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(data, '\n'))
}

// loadRecord reads the calling namespace's file in dir; ok is false when
// there is none.
func loadRecord[T any](cacheDir, dir string) (T, bool, error) {
	var rec bodyRecord[T]
	n, err := CurrentNetNS()
	if err != nil {
		return rec.Body, false, err
	}
	ok, err := readRecord(filepath.Join(cacheDir, dir, n.Key()+".json"), n, &rec)
	return rec.Body, ok, err
}

// bodyRecord is a per-namespace file: the header, and the record itself.
type bodyRecord[T any] struct {
	recordHeader
	Body T `json:"record"`
}

// liteBody is a record body the fast reader can fill from its JSON value
// (see liteReader).
type liteBody interface {
	readLiteBody(v jsonValue) error
}

func (r *bodyRecord[T]) liteSkip() []string { return nil }

func (r *bodyRecord[T]) readLite(f *jsonFields) {
	lb, ok := any(&r.Body).(liteBody)
	if !ok {
		f.fail()
		return
	}
	r.recordHeader = f.header()
	if body, ok := f.v.member("record"); ok {
		if err := lb.readLiteBody(body); err != nil {
			f.fail()
		}
	}
}
