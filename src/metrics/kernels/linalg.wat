;; The three O(n³) inner loops of the symmetric eigensolver (src/metrics/linalg.ts), in WebAssembly
;; with 128-bit SIMD: two float64 lanes per instruction. Everything else stays in TypeScript.
;;
;; All arguments are byte addresses into the exported memory or element counts; matrices are
;; row-major float64. Each kernel computes exactly what its TypeScript twin in linalg.ts computes;
;; only the order of the additions differs, so results agree to rounding.
;;
;; Built into src/metrics/kernels/linalgWasm.ts by `npm run build:wasm` (wabt); a test checks the
;; committed bytes are those of this file.
(module
  (memory (export "memory") 1)

  (func $hsum (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; p[d−1]·q[d−1] when d is odd (the element the two-lane loops leave), else 0.
  (func $oddTail (param $p i32) (param $q i32) (param $d i32) (result f64)
    (local $at i32)
    (if (result f64) (i32.and (local.get $d) (i32.const 1))
      (then
        (local.set $at (i32.shl (i32.sub (local.get $d) (i32.const 1)) (i32.const 3)))
        (f64.mul (f64.load (i32.add (local.get $p) (local.get $at))) (f64.load (i32.add (local.get $q) (local.get $at)))))
      (else (f64.const 0))))

  ;; pᵀq over d values.
  (func $dot (param $p i32) (param $q i32) (param $d i32) (result f64)
    (local $k i32) (local $end i32) (local $acc v128)
    (local.set $end (i32.shl (i32.and (local.get $d) (i32.const -2)) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $acc (f64x2.add (local.get $acc)
          (f64x2.mul (v128.load (i32.add (local.get $p) (local.get $k))) (v128.load (i32.add (local.get $q) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $next)))
    (f64.add (call $hsum (local.get $acc)) (call $oddTail (local.get $p) (local.get $q) (local.get $d))))

  ;; The lower triangle (with the diagonal) of G = A·Aᵀ, A n×d at $a, G n×n at $g. Rows i, i+1
  ;; meet columns j…j+3 together: six loads serve sixteen multiply-adds.
  (func (export "gramLower") (param $a i32) (param $n i32) (param $d i32) (param $g i32)
    (local $row i32) (local $end i32) (local $i i32) (local $j i32) (local $k i32)
    (local $x0 i32) (local $x1 i32) (local $y0 i32) (local $y1 i32) (local $y2 i32) (local $y3 i32)
    (local $out i32) (local $u0 v128) (local $u1 v128) (local $w v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local.set $row (i32.shl (local.get $d) (i32.const 3)))
    (local.set $end (i32.shl (i32.and (local.get $d) (i32.const -2)) (i32.const 3)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $n)))
        (local.set $x0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row))))
        (local.set $x1 (i32.add (local.get $x0) (local.get $row)))
        (local.set $j (i32.const 0))
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $i)))
            (local.set $y0 (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $row))))
            (local.set $y1 (i32.add (local.get $y0) (local.get $row)))
            (local.set $y2 (i32.add (local.get $y1) (local.get $row)))
            (local.set $y3 (i32.add (local.get $y2) (local.get $row)))
            (local.set $s00 (v128.const i64x2 0 0)) (local.set $s01 (v128.const i64x2 0 0))
            (local.set $s02 (v128.const i64x2 0 0)) (local.set $s03 (v128.const i64x2 0 0))
            (local.set $s10 (v128.const i64x2 0 0)) (local.set $s11 (v128.const i64x2 0 0))
            (local.set $s12 (v128.const i64x2 0 0)) (local.set $s13 (v128.const i64x2 0 0))
            (local.set $k (i32.const 0))
            (block $kDone
              (loop $ks
                (br_if $kDone (i32.ge_u (local.get $k) (local.get $end)))
                (local.set $u0 (v128.load (i32.add (local.get $x0) (local.get $k))))
                (local.set $u1 (v128.load (i32.add (local.get $x1) (local.get $k))))
                (local.set $w (v128.load (i32.add (local.get $y0) (local.get $k))))
                (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $u0) (local.get $w))))
                (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $u1) (local.get $w))))
                (local.set $w (v128.load (i32.add (local.get $y1) (local.get $k))))
                (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $u0) (local.get $w))))
                (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $u1) (local.get $w))))
                (local.set $w (v128.load (i32.add (local.get $y2) (local.get $k))))
                (local.set $s02 (f64x2.add (local.get $s02) (f64x2.mul (local.get $u0) (local.get $w))))
                (local.set $s12 (f64x2.add (local.get $s12) (f64x2.mul (local.get $u1) (local.get $w))))
                (local.set $w (v128.load (i32.add (local.get $y3) (local.get $k))))
                (local.set $s03 (f64x2.add (local.get $s03) (f64x2.mul (local.get $u0) (local.get $w))))
                (local.set $s13 (f64x2.add (local.get $s13) (f64x2.mul (local.get $u1) (local.get $w))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $ks)))
            (local.set $out (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))))
            (f64.store (local.get $out) (f64.add (call $hsum (local.get $s00)) (call $oddTail (local.get $x0) (local.get $y0) (local.get $d))))
            (f64.store offset=8 (local.get $out) (f64.add (call $hsum (local.get $s01)) (call $oddTail (local.get $x0) (local.get $y1) (local.get $d))))
            (f64.store offset=16 (local.get $out) (f64.add (call $hsum (local.get $s02)) (call $oddTail (local.get $x0) (local.get $y2) (local.get $d))))
            (f64.store offset=24 (local.get $out) (f64.add (call $hsum (local.get $s03)) (call $oddTail (local.get $x0) (local.get $y3) (local.get $d))))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
            (f64.store (local.get $out) (f64.add (call $hsum (local.get $s10)) (call $oddTail (local.get $x1) (local.get $y0) (local.get $d))))
            (f64.store offset=8 (local.get $out) (f64.add (call $hsum (local.get $s11)) (call $oddTail (local.get $x1) (local.get $y1) (local.get $d))))
            (f64.store offset=16 (local.get $out) (f64.add (call $hsum (local.get $s12)) (call $oddTail (local.get $x1) (local.get $y2) (local.get $d))))
            (f64.store offset=24 (local.get $out) (f64.add (call $hsum (local.get $s13)) (call $oddTail (local.get $x1) (local.get $y3) (local.get $d))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $blocks)))
        ;; The columns left over, up to the diagonal of row i + 1, one at a time.
        (block $restDone
          (loop $rest
            (br_if $restDone (i32.gt_u (local.get $j) (i32.add (local.get $i) (i32.const 1))))
            (local.set $y0 (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $row))))
            (local.set $out (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))))
            (if (i32.le_u (local.get $j) (local.get $i))
              (then (f64.store (local.get $out) (call $dot (local.get $x0) (local.get $y0) (local.get $d)))))
            (f64.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))) (call $dot (local.get $x1) (local.get $y0) (local.get $d)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $rest)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs)))
    ;; An odd last row.
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $x0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row))))
        (local.set $j (i32.const 0))
        (block $lastDone
          (loop $last
            (br_if $lastDone (i32.gt_u (local.get $j) (local.get $i)))
            (f64.store
              (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3)))
              (call $dot (local.get $x0) (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $row))) (local.get $d)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $last))))))

  ;; p += M·v over the trailing block from index $from, reading only M's lower triangle (M n×n at
  ;; $m; v, p n-vectors at $v, $p). Each stored element serves both its row's dot product and its
  ;; column's contribution.
  (func (export "symvLower") (param $m i32) (param $n i32) (param $from i32) (param $v i32) (param $p i32)
    (local $i i32) (local $row i32) (local $jb i32) (local $ib i32) (local $pairsEnd i32)
    (local $vi f64) (local $vs v128) (local $acc v128) (local $a v128) (local $s f64) (local $aj f64)
    (local.set $i (local.get $from))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $row (i32.add (local.get $m) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
        (local.set $ib (i32.shl (local.get $i) (i32.const 3)))
        (local.set $vi (f64.load (i32.add (local.get $v) (local.get $ib))))
        (local.set $vs (f64x2.splat (local.get $vi)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $jb (i32.shl (local.get $from) (i32.const 3)))
        ;; Pairs (j, j+1) with j + 1 < i.
        (local.set $pairsEnd (i32.sub (local.get $ib) (i32.const 8)))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.ge_s (local.get $jb) (local.get $pairsEnd)))
            (local.set $a (v128.load (i32.add (local.get $row) (local.get $jb))))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $a) (v128.load (i32.add (local.get $v) (local.get $jb))))))
            (v128.store (i32.add (local.get $p) (local.get $jb))
              (f64x2.add (v128.load (i32.add (local.get $p) (local.get $jb))) (f64x2.mul (local.get $a) (local.get $vs))))
            (local.set $jb (i32.add (local.get $jb) (i32.const 16)))
            (br $pairs)))
        (local.set $s (f64.add (call $hsum (local.get $acc))
          (f64.mul (f64.load (i32.add (local.get $row) (local.get $ib))) (local.get $vi))))
        (if (i32.lt_s (local.get $jb) (local.get $ib))
          (then
            (local.set $aj (f64.load (i32.add (local.get $row) (local.get $jb))))
            (local.set $s (f64.add (local.get $s) (f64.mul (local.get $aj) (f64.load (i32.add (local.get $v) (local.get $jb))))))
            (f64.store (i32.add (local.get $p) (local.get $jb))
              (f64.add (f64.load (i32.add (local.get $p) (local.get $jb))) (f64.mul (local.get $aj) (local.get $vi))))))
        (f64.store (i32.add (local.get $p) (local.get $ib)) (f64.add (f64.load (i32.add (local.get $p) (local.get $ib))) (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; M ← M − v·qᵀ − q·vᵀ on the lower triangle (with the diagonal) of the trailing block from $from.
  (func (export "rank2Lower") (param $m i32) (param $n i32) (param $from i32) (param $v i32) (param $q i32)
    (local $i i32) (local $row i32) (local $jb i32) (local $ib i32) (local $at i32)
    (local $vi f64) (local $qi f64) (local $vs v128) (local $qs v128)
    (local.set $i (local.get $from))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $row (i32.add (local.get $m) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
        (local.set $ib (i32.shl (local.get $i) (i32.const 3)))
        (local.set $vi (f64.load (i32.add (local.get $v) (local.get $ib))))
        (local.set $qi (f64.load (i32.add (local.get $q) (local.get $ib))))
        (local.set $vs (f64x2.splat (local.get $vi)))
        (local.set $qs (f64x2.splat (local.get $qi)))
        (local.set $jb (i32.shl (local.get $from) (i32.const 3)))
        ;; Pairs (j, j+1) with j + 1 ≤ i.
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.ge_s (local.get $jb) (local.get $ib)))
            (local.set $at (i32.add (local.get $row) (local.get $jb)))
            (v128.store (local.get $at)
              (f64x2.sub (v128.load (local.get $at))
                (f64x2.add
                  (f64x2.mul (local.get $vs) (v128.load (i32.add (local.get $q) (local.get $jb))))
                  (f64x2.mul (local.get $qs) (v128.load (i32.add (local.get $v) (local.get $jb)))))))
            (local.set $jb (i32.add (local.get $jb) (i32.const 16)))
            (br $pairs)))
        (if (i32.eq (local.get $jb) (local.get $ib))
          (then
            (local.set $at (i32.add (local.get $row) (local.get $jb)))
            (f64.store (local.get $at)
              (f64.sub (f64.load (local.get $at))
                (f64.add (f64.mul (local.get $vi) (local.get $qi)) (f64.mul (local.get $qi) (local.get $vi)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))))
