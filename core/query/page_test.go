package query

import "testing"

func TestParsePage(t *testing.T) {
	tests := []struct {
		name     string
		page     string
		pageSize string
		max      int
		want     Page
	}{
		{"defaults", "", "", 1000, Page{Page: 1, PageSize: 20}},
		{"both", "3", "50", 1000, Page{Page: 3, PageSize: 50}},
		{"max page size", "1", "1000", 1000, Page{Page: 1, PageSize: 1000}},
		{"page size 1", "", "1", 1000, Page{Page: 1, PageSize: 1}},
		{"max page", "1000000", "", 1000, Page{Page: 1000000, PageSize: 20}},
		{"leading zeros", "007", "010", 1000, Page{Page: 7, PageSize: 10}},
		{"spaces", " 2 ", " 5", 1000, Page{Page: 2, PageSize: 5}},
		{"default capped by a small max", "", "", 10, Page{Page: 1, PageSize: 10}},
		{"zero max means the product max", "", "1000", 0, Page{Page: 1, PageSize: 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePage(tt.page, tt.pageSize, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParsePage = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePageErrors(t *testing.T) {
	tests := []struct {
		name     string
		page     string
		pageSize string
		param    string
		parts    []string
	}{
		{"page zero", "0", "", "page", []string{"1 to 1000000", `"0"`}},
		{"page negative", "-1", "", "page", []string{`"-1"`}},
		{"page not a number", "abc", "", "page", []string{`"abc"`}},
		{"page fraction", "1.5", "", "page", []string{`"1.5"`}},
		{"page exponent", "1e3", "", "page", []string{`"1e3"`}},
		{"page plus sign", "+2", "", "page", []string{`"+2"`}},
		{"page too big", "1000001", "", "page", []string{`"1000001"`}},
		{"page huge", "99999999999999999999999", "", "page", []string{"1 to 1000000"}},
		{"page blank", "  ", "", "page", []string{"1 to"}},
		{"pageSize zero", "", "0", "pageSize", []string{"1 to 1000", `"0"`}},
		{"pageSize minus one is not all", "", "-1", "pageSize", []string{`"-1"`}},
		{"pageSize too big", "", "1001", "pageSize", []string{"1 to 1000", `"1001"`}},
		{"pageSize not a number", "", "all", "pageSize", []string{`"all"`}},
		{"pageSize with a bad page", "x", "0", "page", []string{`"x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePage(tt.page, tt.pageSize, 1000)
			if got != (Page{}) {
				t.Errorf("got %+v along with the error", got)
			}
			wantError(t, err, tt.param, tt.parts...)
		})
	}
}

func TestPageOffsetAndTotal(t *testing.T) {
	tests := []struct {
		name   string
		page   Page
		count  int
		offset int
		total  int
	}{
		{"first page", Page{Page: 1, PageSize: 20}, 0, 0, 0},
		{"exact pages", Page{Page: 2, PageSize: 20}, 40, 20, 2},
		{"partial last page", Page{Page: 3, PageSize: 20}, 41, 40, 3},
		{"one record", Page{Page: 1, PageSize: 20}, 1, 0, 1},
		{"page size one", Page{Page: 5, PageSize: 1}, 5, 4, 5},
		{"largest", Page{Page: MaxPage, PageSize: 1000}, 1_000_000_000, 999_999_000, 1_000_000},
		{"zero value", Page{}, 10, 0, 0},
		{"negative count", Page{Page: 1, PageSize: 10}, -5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.page.Offset(); got != tt.offset {
				t.Errorf("Offset = %d, want %d", got, tt.offset)
			}
			if got := tt.page.TotalPage(tt.count); got != tt.total {
				t.Errorf("TotalPage(%d) = %d, want %d", tt.count, got, tt.total)
			}
		})
	}
}
