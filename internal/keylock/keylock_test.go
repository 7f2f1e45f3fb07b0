package keylock

import (
	"sync"
	"testing"
)

// TestLockSerialisesPerKeyAndForgets: holders of one key run one at a time, other keys do not
// wait, and the table is empty once everyone left.
func TestLockSerialisesPerKeyAndForgets(t *testing.T) {
	t.Parallel()
	var tab Table[string]
	var wg sync.WaitGroup
	counts := map[string]int{}
	inside := map[string]int{}
	var mu sync.Mutex
	for i := 0; i < 200; i++ {
		key := []string{"a", "b", "c"}[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := tab.Lock(key)
			defer unlock()
			mu.Lock()
			inside[key]++
			if inside[key] != 1 {
				t.Errorf("%d holders of %q at once", inside[key], key)
			}
			mu.Unlock()
			mu.Lock()
			counts[key]++
			inside[key]--
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts["a"]+counts["b"]+counts["c"] != 200 {
		t.Fatalf("counts %v", counts)
	}
	if n := tab.Len(); n != 0 {
		t.Fatalf("%d keys left in the table", n)
	}
	// Another key is not held up by a held one.
	unlock := tab.Lock("x")
	tab.Lock("y")()
	unlock()
}
