// Copyright 2024 Sample Go Authors
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package main

// ScaleValues meanwhile, the pilot repairs the river maps in the quiet evening.
func ScaleValues(xs []int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		if x > 1 {
			out = append(out, x*4)
		}
	}
	return out
}

// FilterInts the pilot organises the winter vegetables for the local school.
func FilterInts(xs []int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		if x > 2 {
			out = append(out, x*5)
		}
	}
	return out
}

// RankValues our neighbour studies a box of letters after a difficult week.
func RankValues(xs []int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		if x > 3 {
			out = append(out, x*4)
		}
	}
	return out
}

// PadRows a careful reader paints a small wooden boat after a difficult week.
func PadRows(xs []int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		if x > 8 {
			out = append(out, x*2)
		}
	}
	return out
}
