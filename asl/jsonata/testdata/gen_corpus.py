#!/usr/bin/env python3
"""Writes generated.txt: random but reproducible JSONata expressions for the differential test.

The first part combines literals, bound variables, operators and library functions at random, so
that argument checking, undefined propagation, number printing and sequence semantics are compared
against jsonata-js on combinations nobody would write by hand; the second part builds random paths
with predicates, positional and context bindings, parent steps, sorting and grouping over the
invoice document. Run it from this
directory: python3 gen_corpus.py > generated.txt
"""
import json
import random

random.seed(20261201)

NUM = ['0', '1', '-1', '2.5', '-0.5', '3', '10', '1e3', '0.1', '7', '100', '1/3', '$x', '$n', '$a[0]', '$a[-1]',
       '$count($a)', '0.5', '1e-7', '123456.789']
STR = ['"a"', '"abc"', '""', '"Hello World"', '"x,y,z"', '"  pad  "', '"123"', '"1.5"', '$s', '"AbC"', '"ünï"', '$t',
       '"a-b_c"', '"2024-03-05"', '"0x1F"']
ARR = ['[1,2,3]', '[]', '[3,1,2]', '["b","a"]', '$a', '[[1,2],[3]]', '[1]', '$o.arr', '[1..4]', '$objs', '$objs.v',
       '$objs.k', '$objs[v>1]', '$objs^(v)', '$objs^(>k, v).v', '[null, true, "s", 1]']
OBJ = ['{"a":1}', '{}', '$o', '{"b":[1,2],"a":{"c":3}}', '$objs[0]', '{"2":"x","1":"y","z":0}', '$objs{k: v}',
       '$objs{k: $sum(v)}', '$merge($objs)']
ANY = NUM + STR + ARR + OBJ + ['null', 'true', 'false', '$nope', '$o.nope', '$objs.nope']
FN1 = ['$string', '$length', '$uppercase', '$lowercase', '$trim', '$number', '$abs', '$floor', '$ceil', '$round',
       '$sqrt', '$boolean', '$not', '$exists', '$count', '$sum', '$max', '$min', '$average', '$keys', '$spread',
       '$type', '$reverse', '$distinct', '$sort', '$base64encode', '$encodeUrlComponent', '$encodeUrl', '$merge',
       '$formatBase', '$clone']
FN2 = [('$substring', 'n'), ('$substringBefore', 's'), ('$substringAfter', 's'), ('$pad', 'n'), ('$contains', 's'),
       ('$contains', 'r'), ('$split', 's'), ('$split', 'r'), ('$join', 's'), ('$round', 'n'), ('$power', 'n'),
       ('$append', 'x'), ('$lookup', 's'), ('$formatBase', 'n'), ('$string', 'b'), ('$zip', 'a'), ('$match', 'r'),
       ('$replace2', 'r'), ('$formatNumber', 'p'), ('$formatInteger', 'q')]
OPS = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', '&', 'and', 'or', 'in']
REGEX = ['/a/', '/[a-z]+/', '/\\d/', '/x*/', '/(a)(b)?/', '/l+/i', '/^A/', '/,/']
PICT = ['"#,##0.00"', '"0.0"', '"#"', '"0%"', '"#,###;(#,###)"']  # no exponent pictures: jsonata-js loops forever on negative numbers with them
IPICT = ['"w"', '"W"', '"0"', '"#,##0"', '"I"', '"a"', '"0;o"', '"Ww;o"']


def pick(xs):
    return random.choice(xs)


def arg(t):
    return {'n': lambda: pick(NUM), 's': lambda: pick(STR), 'a': lambda: pick(ARR), 'b': lambda: pick(['true', 'false']),
            'x': lambda: pick(ANY), 'r': lambda: pick(REGEX), 'p': lambda: pick(PICT), 'q': lambda: pick(IPICT)}[t]()


def expr(d=0):
    r = random.random()
    if d > 2 or r < 0.22:
        return pick(ANY)
    if r < 0.40:
        return pick(FN1) + '(' + expr(d + 1) + ')'
    if r < 0.56:
        f, t = pick(FN2)
        if f == '$replace2':
            return '$replace(' + expr(d + 1) + ', ' + arg(t) + ', ' + pick(['"-"', '"[$0]"', '"$1"', '""']) + ')'
        return f + '(' + expr(d + 1) + ', ' + arg(t) + ')'
    if r < 0.70:
        return '(' + expr(d + 1) + ' ' + pick(OPS) + ' ' + expr(d + 1) + ')'
    if r < 0.76:
        return expr(d + 1) + '[' + pick(['0', '-1', '1', '$ > 1', 'true', '[0,1]', '$type($) = "number"']) + ']'
    if r < 0.82:
        return '$map(' + pick(ARR) + ', function($v, $i){' + pick(['$v', '$i', '$v * 2', '$string($v)', '$v & $i', '$v > 1', '[$v]', '{"v": $v}']) + '})'
    if r < 0.86:
        return '$filter(' + pick(ARR) + ', function($v){' + pick(['$v', '$v > 1', '$boolean($v)', '$exists($v.v)']) + '})'
    if r < 0.89:
        return '$reduce(' + pick(ARR) + ', function($p, $c){' + pick(['$p + $c', '$p & $c', '[$p, $c]', '$max([$p, $c])']) + '})'
    if r < 0.93:
        return expr(d + 1) + ' ? ' + expr(d + 1) + ' : ' + expr(d + 1)
    if r < 0.96:
        return pick(ARR) + '.' + pick(['$', '($ * 2)', '{"x": $}', '$string()', '[$, $]', 'v', 'k', '%'])
    return '{' + pick(STR) + ': ' + expr(d + 1) + '}'


STEPS = ['Account', 'Order', 'Product', '`Product Name`', 'Price', 'Quantity', 'Description', 'Colour', 'Weight',
         'OrderID', 'SKU', '*', '**', '%', '$']
STAGES = ['[0]', '[-1]', '[1]', '[Price > 30]', '[Quantity = 1]', '[true]', '[]', '[$ != null]', '#$i', '@$v',
          '^(Price)', '^(>Quantity, SKU)', '[%.OrderID = "order104"]', '[[0,1]]']
TAILS = ['', '.$string()', '{`Product Name`: Price}', '{"n": $count($)}', '.{"p": Price}', '.($ * 2)', '.$keys()',
         '.%.OrderID']
PATH_FNS = ['$count', '$sum', '$string', '$exists', '$distinct', '$reverse', '$keys', '$type', '$boolean', '$sort', '$max']


def path_expr():
    steps = []
    for _ in range(random.randint(1, 5)):
        s = pick(STEPS)
        if random.random() < 0.35:
            s += pick(STAGES)
        steps.append(s)
    e = '.'.join(steps) + pick(TAILS)
    r = random.random()
    if r < 0.3:
        e = pick(PATH_FNS) + '(' + e + ')'
    elif r < 0.4:
        e = '$map(' + e + ', function($x, $i){$i})'
    return e


def main():
    bindings = {"x": 4, "n": -2.5, "a": [5, 1, 4], "s": "str", "t": "Tëst", "o": {"arr": [1, [2, 3]], "k": "v"},
                "objs": [{"k": "b", "v": 2}, {"k": "a", "v": 1}, {"k": "b", "v": 3}]}
    print('# Generated by gen_corpus.py; do not edit by hand.')
    print('@input none')
    print('@bind ' + json.dumps(bindings))
    seen = set()
    while len(seen) < 3000:
        e = expr()
        if e in seen:
            continue
        seen.add(e)
        print(e)
    # paths with stages, bindings and parents over the invoice document
    print('@bind none')
    print('@input invoice')
    seen = set()
    while len(seen) < 1500:
        e = path_expr()
        if e in seen:
            continue
        seen.add(e)
        print(e)


main()
