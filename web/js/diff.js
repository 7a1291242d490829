// A line diff (longest common subsequence): enough for templates and
// notices, which are tens of lines.

// Returns [{op: ' ' | '-' | '+', text, a, b}] where a/b are 1-based line
// numbers in the old/new text (null where the line is not in that side).
export function lineDiff(oldText, newText) {
  const a = String(oldText ?? '').split('\n');
  const b = String(newText ?? '').split('\n');
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the LCS length of a[i..] and b[j..]
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i], a: i + 1, b: j + 1 });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: '-', text: a[i], a: i + 1, b: null });
      i++;
    } else {
      out.push({ op: '+', text: b[j], a: null, b: j + 1 });
      j++;
    }
  }
  for (; i < n; i++) out.push({ op: '-', text: a[i], a: i + 1, b: null });
  for (; j < m; j++) out.push({ op: '+', text: b[j], a: null, b: j + 1 });
  return out;
}

export function diffStats(ops) {
  let add = 0;
  let del = 0;
  for (const o of ops) {
    if (o.op === '+') add++;
    else if (o.op === '-') del++;
  }
  return { add, del, same: add === 0 && del === 0 };
}

// Pairs the lines for a side-by-side view: each row {left, right} where a
// side is {op, text, n} or null. Runs of deletions and additions are laid
// next to each other.
export function sideBySide(ops) {
  const rows = [];
  let k = 0;
  while (k < ops.length) {
    const o = ops[k];
    if (o.op === ' ') {
      rows.push({ left: { op: ' ', text: o.text, n: o.a }, right: { op: ' ', text: o.text, n: o.b } });
      k++;
      continue;
    }
    const dels = [];
    const adds = [];
    while (k < ops.length && ops[k].op !== ' ') {
      if (ops[k].op === '-') dels.push(ops[k]);
      else adds.push(ops[k]);
      k++;
    }
    for (let r = 0; r < Math.max(dels.length, adds.length); r++) {
      const d = dels[r];
      const ad = adds[r];
      rows.push({
        left: d ? { op: '-', text: d.text, n: d.a } : null,
        right: ad ? { op: '+', text: ad.text, n: ad.b } : null,
      });
    }
  }
  return rows;
}
