#!/usr/bin/env python3
"""Markdown tables of docs/results.md from results/logart.csv and results/adalog.csv.
   python3 scripts/results_md.py [results/logart.csv] [results/adalog.csv]"""
import csv, sys, os

def rows(path):
    return list(csv.DictReader(open(path))) if os.path.exists(path) else []

def logart(path):
    rs = rows(path)
    if not rs: return
    cifar = [r for r in rs if r['model'].endswith('_cifar')]
    label = {('log_2', 'none'): 'base 2', ('log_sqrt2', 'none'): 'base √2',
             ('log_dynamic', 'tensor_wise'): 'DLog TW', ('log_dynamic', 'layer_wise'): 'DLog LW',
             ('log_dynamic', 'block_wise'): 'DLog BW'}
    order = ['base 2', 'base √2', 'DLog TW', 'DLog LW']
    for model in sorted({r['model'] for r in cifar}):
        fp = {r['dataset']: r['fp_top1'] for r in cifar if r['model'] == model}
        print(f"\n**{model}** — FP {fp.get('folder:test-jpeg', '?')} % (test-jpeg, 10,000) / "
              f"{fp.get('cifar10-bin:test-lossless-200', '?')} % (test-lossless-200)\n")
        print('| W | weights | LLR | 1+1/2 | test-jpeg | + U(8) act | lossless-200 | + U(8) act | DBS s | LLR s |')
        print('|---|---|---|---|---|---|---|---|---|---|')
        key = lambda r: (-int(r['w_bits']), order.index(label[(r['scale_method'], r['search_method'])]), r['llr'], r['hardware_approx'])
        sel = sorted([r for r in cifar if r['model'] == model and r['dataset'] == 'folder:test-jpeg'], key=key)
        for r in sel:
            other = [o for o in cifar if o['model'] == model and o['dataset'] != r['dataset'] and o['options'] == r['options'] and o['w_bits'] == r['w_bits']]
            o = other[0] if other else {}
            print(f"| {r['w_bits']} | {label[(r['scale_method'], r['search_method'])]} | {'✓' if r['llr'] == '1' else '×'} | "
                  f"{'✓' if r['hardware_approx'] == '1' else '×'} | {r['q_top1']} | {r['q_top1_act']} | {o.get('q_top1', '')} | "
                  f"{o.get('q_top1_act', '')} | {r['search_s']} | {r['llr_s']} |")
    emb = [r for r in rs if r['model'].startswith('fmnist')]
    if emb:
        print('\n**Embedded Fashion-MNIST models** (test set, 10,000 images)\n')
        print('| model | W | search | LLR | FP | LogART | + U(8) act | DBS s | LLR s |')
        print('|---|---|---|---|---|---|---|---|---|')
        for r in sorted(emb, key=lambda r: (r['model'], -int(r['w_bits']))):
            print(f"| {r['model']} | {r['w_bits']} | {r['search_method']} | {'✓' if r['llr'] == '1' else '×'} | {r['fp_top1']} | "
                  f"{r['q_top1']} | {r['q_top1_act']} | {r['search_s']} | {r['llr_s']} |")

def adalog(path):
    rs = rows(path)
    if not rs: return
    print('\n| model | W/A | weight grid | FP | calibrate-only | --optimize (iters) | calib s | optimize s |')
    print('|---|---|---|---|---|---|---|---|')
    def opt(r, k, d=None):
        import ast
        return ast.literal_eval(r['options'].replace('true', 'True').replace('false', 'False')).get(k, d)
    for r in sorted(rs, key=lambda r: (r['model'], int(r['w_bits']), bool(opt(r, 'weight_zero_from_range', False)))):
        o = r['optim_size'] != '0'
        grid = 'zero from range' if opt(r, 'weight_zero_from_range', False) else 'reference'
        print(f"| {r['model']} | W{r['w_bits']}A{r['a_bits']} | {grid} | {r['fp_top1']} | {r['calib_top1']} | "
              f"{r['q_top1'] + ' (' + str(opt(r, 'optim_iters')) + ')' if o else '—'} | {r['calib_s']} | {r['optim_s'] if o else '—'} |")

logart(sys.argv[1] if len(sys.argv) > 1 else 'results/logart.csv')
adalog(sys.argv[2] if len(sys.argv) > 2 else 'results/adalog.csv')
