package query

import "strings"

// Paging limits.
const (
	// DefaultPageSize is the page size when none is given.
	DefaultPageSize = 20
	// DefaultMaxPageSize is the product's largest page size, used by ParsePage when it is
	// given a maxPageSize below 1.
	DefaultMaxPageSize = 1000
	// MaxPage is the largest page number.
	MaxPage = 1_000_000
)

// Page is one page of a list: Page counts from 1.
type Page struct {
	Page     int
	PageSize int
}

// ParsePage decodes the page and pageSize parameters. An empty string takes the default:
// page 1, pageSize 20 (or maxPageSize when that is smaller). page must be an integer from 1 to
// MaxPage and pageSize one from 1 to maxPageSize (DefaultMaxPageSize when maxPageSize < 1);
// anything else, including "-1" for pageSize, is an *Error with Param "page" or "pageSize".
// Spaces around the number are ignored; signs, decimals and exponents are not accepted.
func ParsePage(page, pageSize string, maxPageSize int) (Page, error) {
	if maxPageSize < 1 {
		maxPageSize = DefaultMaxPageSize
	}
	p := Page{Page: 1, PageSize: min(DefaultPageSize, maxPageSize)}
	if page != "" {
		n, ok := parseCount(page, MaxPage)
		if !ok {
			return Page{}, errorf("page", "must be an integer from 1 to %d, got %s", MaxPage, quote(page))
		}
		p.Page = n
	}
	if pageSize != "" {
		n, ok := parseCount(pageSize, maxPageSize)
		if !ok {
			return Page{}, errorf("pageSize", "must be an integer from 1 to %d, got %s", maxPageSize, quote(pageSize))
		}
		p.PageSize = n
	}
	return p, nil
}

// parseCount reads a decimal integer from 1 to max.
func parseCount(s string, max int) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, n >= 1
}

// Offset is the number of records before the page.
func (p Page) Offset() int {
	if p.Page < 1 || p.PageSize < 1 {
		return 0
	}
	return (p.Page - 1) * p.PageSize
}

// TotalPage is the number of pages count records fill: 0 when there are none.
func (p Page) TotalPage(count int) int {
	if count <= 0 || p.PageSize < 1 {
		return 0
	}
	n := count / p.PageSize
	if count%p.PageSize != 0 {
		n++
	}
	return n
}
