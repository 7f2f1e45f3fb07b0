package storetest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testRecords covers records: the named documents kept beside executions (PutRecord, GetRecord,
// DeleteRecord, ListRecords, ListDueRecords).
func (s *suite) testRecords(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		east := time.FixedZone("UTC+9", 9*60*60)
		r := store.Record{
			Namespace: f.ns, Kind: "state-machine", Name: "orders",
			Version: 42, // ignored: the store sets it
			Data:    []byte("definition-v1"),
			WakeAt:  at(time.Hour).In(east), CreatedAt: at(0).In(east), UpdatedAt: at(time.Minute).In(east),
		}
		v, err := f.st.PutRecord(f.ctx, r, 0)
		require.NoError(t, err)
		require.Equal(t, int64(1), v)
		got := f.getRecord(f.ns, "state-machine", "orders")
		r.Version = 1
		requireRecord(t, r, *got)

		// An update keeps CreatedAt (whatever the caller passes), takes the new UpdatedAt.
		up := r
		up.Data, up.WakeAt, up.CreatedAt, up.UpdatedAt = []byte("definition-v2"), at(2*time.Hour), at(5*time.Hour), at(3*time.Minute)
		v, err = f.st.PutRecord(f.ctx, up, 1)
		require.NoError(t, err)
		require.Equal(t, int64(2), v)
		up.Version, up.CreatedAt = 2, r.CreatedAt
		requireRecord(t, up, *f.getRecord(f.ns, "state-machine", "orders"))

		v, err = f.st.PutRecord(f.ctx, up, 2)
		require.NoError(t, err)
		require.Equal(t, int64(3), v, "each update adds one")
	})

	t.Run("StoreSetsTimes", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		before := time.Now().Truncate(time.Microsecond)
		_, err := f.st.PutRecord(f.ctx, f.record("a", "v1"), 0)
		require.NoError(t, err)
		after := time.Now()
		got := f.getRecord(f.ns, "kind", "a")
		requireTime(t, got.CreatedAt, got.UpdatedAt, "UpdatedAt of a new record (its CreatedAt)")
		require.False(t, got.CreatedAt.Before(before) || got.CreatedAt.After(after),
			"CreatedAt %s is the time of the write, between %s and %s", got.CreatedAt, before, after)
		require.True(t, got.WakeAt.IsZero(), "no WakeAt given, none kept")

		_, err = f.st.PutRecord(f.ctx, f.record("a", "v2"), 1)
		require.NoError(t, err)
		again := f.getRecord(f.ns, "kind", "a")
		requireTime(t, got.CreatedAt, again.CreatedAt, "CreatedAt after an update")
		require.False(t, again.UpdatedAt.Before(got.UpdatedAt), "UpdatedAt moves forward on update")
		require.False(t, again.UpdatedAt.After(time.Now()))
	})

	t.Run("InsertExistingIsAlreadyExists", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		f.putRecord(f.record("a", "first"), 0)
		_, err := f.st.PutRecord(f.ctx, f.record("a", "second"), 0)
		require.ErrorIs(t, err, store.ErrAlreadyExists)
		got := f.getRecord(f.ns, "kind", "a")
		require.Equal(t, int64(1), got.Version)
		requireBlob(t, []byte("first"), got.Data, "Data")
	})

	t.Run("StaleVersionIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		f.putRecord(f.record("a", "v1"), 0)
		f.putRecord(f.record("a", "v2"), 1)
		for _, stale := range []int64{1, 3, -1} {
			_, err := f.st.PutRecord(f.ctx, f.record("a", "lost"), stale)
			require.ErrorIs(t, err, store.ErrConflict, "expected version %d", stale)
			require.NotErrorIs(t, err, store.ErrNotFound)
		}
		got := f.getRecord(f.ns, "kind", "a")
		require.Equal(t, int64(2), got.Version)
		requireBlob(t, []byte("v2"), got.Data, "Data")
	})

	t.Run("MissingIsNotFound", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		f.putRecord(f.record("present", "x"), 0)
		_, err := f.st.PutRecord(f.ctx, f.record("absent", "x"), 1)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NotErrorIs(t, err, store.ErrConflict)
		_, err = f.st.GetRecord(f.ctx, f.ns, "kind", "absent")
		require.ErrorIs(t, err, store.ErrNotFound)
		for _, v := range []int64{0, 1} {
			err = f.st.DeleteRecord(f.ctx, f.ns, "kind", "absent", v)
			require.ErrorIs(t, err, store.ErrNotFound, "delete at version %d", v)
			require.NotErrorIs(t, err, store.ErrConflict)
		}
		_, err = f.st.GetRecord(f.ctx, f.ns, "kind", "absent")
		require.ErrorIs(t, err, store.ErrNotFound, "the failed update inserted nothing")
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		f.putRecord(f.record("any", "x"), 0)
		f.putRecord(f.record("any", "y"), 1)
		require.NoError(t, f.st.DeleteRecord(f.ctx, f.ns, "kind", "any", 0), "0 deletes whatever version")
		_, err := f.st.GetRecord(f.ctx, f.ns, "kind", "any")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, f.st.DeleteRecord(f.ctx, f.ns, "kind", "any", 0), store.ErrNotFound, "deleted twice")

		f.putRecord(f.record("exact", "x"), 0)
		f.putRecord(f.record("exact", "y"), 1)
		err = f.st.DeleteRecord(f.ctx, f.ns, "kind", "exact", 1)
		require.ErrorIs(t, err, store.ErrConflict)
		require.Equal(t, int64(2), f.getRecord(f.ns, "kind", "exact").Version, "a stale delete leaves the record")
		require.NoError(t, f.st.DeleteRecord(f.ctx, f.ns, "kind", "exact", 2))
		_, err = f.st.GetRecord(f.ctx, f.ns, "kind", "exact")
		require.ErrorIs(t, err, store.ErrNotFound)

		// The name is free again, and a new record starts at version 1.
		require.Equal(t, int64(1), f.putRecord(f.record("exact", "z"), 0))
	})

	t.Run("KindsAndNamespacesAreIsolated", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		keys := [][2]string{{"ns-a", "activity"}, {"ns-a", "state-machine"}, {"ns-b", "activity"}, {"ns-b", "state-machine"}}
		for _, k := range keys {
			r := store.Record{Namespace: k[0], Kind: k[1], Name: "same", Data: []byte(k[0] + "/" + k[1])}
			require.Equal(t, int64(1), f.putRecord(r, 0), "%v", k)
		}
		r := store.Record{Namespace: "ns-a", Kind: "activity", Name: "same", Data: []byte("updated")}
		require.Equal(t, int64(2), f.putRecord(r, 1))
		require.NoError(t, f.st.DeleteRecord(f.ctx, "ns-b", "state-machine", "same", 1))
		for _, k := range keys {
			list, err := f.st.ListRecords(f.ctx, k[0], k[1], "", 0)
			require.NoError(t, err)
			switch k {
			case keys[0]:
				require.Len(t, list, 1)
				requireBlob(t, []byte("updated"), list[0].Data, "Data")
			case keys[3]:
				require.Empty(t, list)
			default:
				require.Len(t, list, 1)
				require.Equal(t, int64(1), list[0].Version)
				requireBlob(t, []byte(k[0]+"/"+k[1]), list[0].Data, "Data")
			}
		}
	})

	t.Run("ListRecordsPagesInByteOrder", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		names := []string{"b", "B", "a", "A", "aB", "ab", "a b", "a-b", "a_b", "é", "e", "E", "z", "ä",
			"日本", "\u007f", "~", "0", "10", "9", "a\u0301", "😀", "ﬀ", strings.Repeat("n", 1000)}
		for _, n := range names {
			f.putRecord(f.record(n, "data-"+n), 0)
		}
		f.putRecord(store.Record{Namespace: f.ns, Kind: "other", Name: "a"}, 0)
		f.putRecord(store.Record{Namespace: "other-ns", Kind: "kind", Name: "a"}, 0)
		want := append([]string(nil), names...)
		sort.Strings(want) // byte order

		all, err := f.st.ListRecords(f.ctx, f.ns, "kind", "", 0)
		require.NoError(t, err)
		require.Equal(t, want, recordNames(all))
		for _, r := range all {
			requireBlob(t, []byte("data-"+r.Name), r.Data, "Data of "+r.Name)
		}

		for _, limit := range []int{1, 5, len(names)} {
			var got []string
			after := ""
			for {
				page, err := f.st.ListRecords(f.ctx, f.ns, "kind", after, limit)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), limit)
				if len(page) == 0 {
					break
				}
				got = append(got, recordNames(page)...)
				after = page[len(page)-1].Name
			}
			require.Equal(t, want, got, "pages of %d", limit)
		}

		// afterName need not be a stored name.
		page, err := f.st.ListRecords(f.ctx, f.ns, "kind", "a", 2)
		require.NoError(t, err)
		require.Equal(t, want[sort.SearchStrings(want, "a")+1:][:2], recordNames(page))
		page, err = f.st.ListRecords(f.ctx, f.ns, "kind", "aa", 0)
		require.NoError(t, err)
		require.Equal(t, want[sort.SearchStrings(want, "aa"):], recordNames(page))
		page, err = f.st.ListRecords(f.ctx, f.ns, "kind", "\U0010ffff", 0)
		require.NoError(t, err)
		require.Empty(t, page)
		page, err = f.st.ListRecords(f.ctx, f.ns, "no-such-kind", "", 0)
		require.NoError(t, err)
		require.Empty(t, page)
	})

	t.Run("ListDueRecords", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		due := []store.Record{ // in the order ListDueRecords returns them
			{Namespace: "ns-a", Kind: "schedule", Name: "early", WakeAt: at(-time.Hour)},
			{Namespace: "ns-a", Kind: "schedule", Name: "tie-1", WakeAt: at(0)},
			{Namespace: "ns-a", Kind: "schedule", Name: "tie-2", WakeAt: at(0)},
			{Namespace: "ns-b", Kind: "schedule", Name: "tie-0", WakeAt: at(0)},
			{Namespace: "ns-a", Kind: "schedule", Name: "at-until", WakeAt: at(time.Minute)},
		}
		others := []store.Record{
			{Namespace: "ns-a", Kind: "schedule", Name: "later", WakeAt: at(time.Minute + time.Microsecond)},
			{Namespace: "ns-a", Kind: "schedule", Name: "never"},
			{Namespace: "ns-b", Kind: "schedule", Name: "never"},
			{Namespace: "ns-a", Kind: "batch", Name: "other-kind", WakeAt: at(-2 * time.Hour)},
		}
		for i := range due {
			due[i].Data = []byte("due-" + due[i].Name)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		all := append(append([]store.Record(nil), due...), others...)
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for _, r := range all {
			f.putRecord(r, 0)
		}
		until := at(time.Minute)

		got, err := f.st.ListDueRecords(f.ctx, "schedule", until, 0)
		require.NoError(t, err)
		require.Equal(t, dueKeys(due), dueKeys(got))
		for i := range got {
			requireTime(t, due[i].WakeAt, got[i].WakeAt, "WakeAt")
			requireBlob(t, due[i].Data, got[i].Data, "Data")
		}
		got, err = f.st.ListDueRecords(f.ctx, "schedule", until, 3)
		require.NoError(t, err)
		require.Equal(t, dueKeys(due[:3]), dueKeys(got))
		got, err = f.st.ListDueRecords(f.ctx, "schedule", at(-2*time.Hour), 0)
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = f.st.ListDueRecords(f.ctx, "schedule", at(1000*time.Hour), 0)
		require.NoError(t, err)
		require.Len(t, got, len(due)+1, "every set WakeAt, never a zero one")

		// An update that clears WakeAt takes the record off the due list; one that sets it adds it.
		cleared := due[0]
		cleared.WakeAt = time.Time{}
		require.Equal(t, int64(2), f.putRecord(cleared, 1))
		set := store.Record{Namespace: "ns-b", Kind: "schedule", Name: "never", WakeAt: at(-3 * time.Hour)}
		require.Equal(t, int64(2), f.putRecord(set, 1))
		got, err = f.st.ListDueRecords(f.ctx, "schedule", until, 0)
		require.NoError(t, err)
		require.Equal(t, dueKeys(append([]store.Record{set}, due[1:]...)), dueKeys(got))
		require.True(t, f.getRecord("ns-a", "schedule", "early").WakeAt.IsZero())
	})

	t.Run("Data", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		large := make([]byte, 1<<20)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range large {
			large[i] = byte(rng.Uint32())
		}
		for i, data := range [][]byte{nil, {}, {0, 0xff, 0, 'x'}, large} {
			r := f.record(fmt.Sprintf("data-%d", i), "")
			r.Data = data
			f.putRecord(r, 0)
			requireBlob(t, data, f.getRecord(f.ns, "kind", r.Name).Data, r.Name)
		}
		r := f.record("data-0", "")
		r.Data = large
		f.putRecord(r, 1)
		requireBlob(t, large, f.getRecord(f.ns, "kind", "data-0").Data, "Data grown by an update")
	})

	t.Run("Names", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		long := strings.Repeat("é", 600) // 1,200 bytes
		for _, name := range []string{long, "a/b:c", "with space", "tab\tnewline\n", "\u00a0", "😀"} {
			f.putRecord(f.record(name, name), 0)
			got := f.getRecord(f.ns, "kind", name)
			require.Equal(t, name, got.Name)
			requireBlob(t, []byte(name), got.Data, "Data")
		}

		// A NUL character or invalid UTF-8 is refused, never stored truncated; an empty name too
		// (no listing could return it: names are listed after "").
		for _, r := range []store.Record{
			{Namespace: f.ns, Kind: "kind", Name: "bad\x00name"},
			{Namespace: f.ns, Kind: "kind", Name: "\x00"},
			{Namespace: f.ns, Kind: "kind", Name: "bad\xffname"},
			{Namespace: f.ns, Kind: "kind", Name: ""},
			{Namespace: f.ns, Kind: "ki\x00nd", Name: "n"},
			{Namespace: f.ns + "\x00", Kind: "kind", Name: "n"},
		} {
			_, err := f.st.PutRecord(f.ctx, r, 0)
			require.Error(t, err, "%q", r.Name)
			for _, sentinel := range []error{store.ErrNotFound, store.ErrConflict, store.ErrAlreadyExists} {
				require.NotErrorIs(t, err, sentinel)
			}
			_, err = f.st.PutRecord(f.ctx, r, 1)
			require.Error(t, err)
			_, err = f.st.GetRecord(f.ctx, r.Namespace, r.Kind, r.Name)
			require.ErrorIs(t, err, store.ErrNotFound, "no record can have key %q/%q/%q", r.Namespace, r.Kind, r.Name)
			require.ErrorIs(t, f.st.DeleteRecord(f.ctx, r.Namespace, r.Kind, r.Name, 0), store.ErrNotFound)
		}
		for _, name := range []string{"bad", "bad\xef\xbf\xbdname"} {
			_, err := f.st.GetRecord(f.ctx, f.ns, "kind", name)
			require.ErrorIs(t, err, store.ErrNotFound, "nothing stored under %q", name)
		}
		got, err := f.st.ListRecords(f.ctx, f.ns+"\x00", "kind", "", 0)
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = f.st.ListDueRecords(f.ctx, "ki\x00nd", at(1000*time.Hour), 0)
		require.NoError(t, err)
		require.Empty(t, got)
		_, err = f.st.ListRecords(f.ctx, f.ns, "kind", "a\x00", 0)
		require.Error(t, err, "a position no driver can compare is refused")
		all, err := f.st.ListRecords(f.ctx, f.ns, "kind", "", 0)
		require.NoError(t, err)
		require.Len(t, all, 6, "only the valid names were stored")
	})

	t.Run("ConcurrentUpdatesOneWins", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		f.putRecord(f.record("contended", "v1"), 0)
		const writers = 8
		errs := make([]error, writers)
		versions := make([]int64, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				versions[i], errs[i] = f.st.PutRecord(f.ctx, f.record("contended", fmt.Sprintf("writer-%d", i)), 1)
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "writers %d and %d both won", winner, i)
				require.Equal(t, int64(2), versions[i])
				winner = i
				continue
			}
			require.ErrorIs(t, err, store.ErrConflict, "writer %d", i)
		}
		require.NotEqual(t, -1, winner, "one writer wins")
		got := f.getRecord(f.ns, "kind", "contended")
		require.Equal(t, int64(2), got.Version)
		requireBlob(t, []byte(fmt.Sprintf("writer-%d", winner)), got.Data, "Data")
	})
}

// record returns a record of kind "kind" in the fixture's namespace with data as its Data.
func (f *fixture) record(name, data string) store.Record {
	return store.Record{Namespace: f.ns, Kind: "kind", Name: name, Data: []byte(data)}
}

// putRecord runs PutRecord, requires it to succeed and returns the new version.
func (f *fixture) putRecord(r store.Record, expectedVersion int64) int64 {
	f.t.Helper()
	v, err := f.st.PutRecord(f.ctx, r, expectedVersion)
	require.NoError(f.t, err, "put record %s/%s/%q at version %d", r.Namespace, r.Kind, r.Name, expectedVersion)
	require.Equal(f.t, expectedVersion+1, v)
	return v
}

func (f *fixture) getRecord(namespace, kind, name string) *store.Record {
	f.t.Helper()
	got, err := f.st.GetRecord(f.ctx, namespace, kind, name)
	require.NoError(f.t, err, "get record %s/%s/%q", namespace, kind, name)
	return got
}

// requireRecord requires got to equal want field by field, its times in UTC.
func requireRecord(t *testing.T, want, got store.Record) {
	t.Helper()
	require.Equal(t, want.Namespace, got.Namespace)
	require.Equal(t, want.Kind, got.Kind)
	require.Equal(t, want.Name, got.Name)
	require.Equal(t, want.Version, got.Version)
	requireBlob(t, want.Data, got.Data, "Data")
	if want.WakeAt.IsZero() {
		require.True(t, got.WakeAt.IsZero(), "WakeAt: want zero, got %s", got.WakeAt)
	} else {
		requireTime(t, want.WakeAt, got.WakeAt, "WakeAt")
	}
	requireTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	requireTime(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt")
}

func recordNames(rs []store.Record) []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	return names
}

// dueKeys lists namespace/kind/name of each record, to compare orders.
func dueKeys(rs []store.Record) []string {
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.Namespace + "/" + r.Kind + "/" + r.Name
	}
	return keys
}
