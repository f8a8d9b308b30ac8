#!/usr/bin/env bash
# Writes the SCALE-Sim topology files of configs/topologies/ (shapes only, for `logq sim` on
# models without a quantized .lqm). GEMM rows are `name, M, N, K` (attention matmuls one row per
# head); conv rows follow SCALE-Sim: the IFMAP size includes the padding, OFMAP = (IFMAP - F)/S + 1.
set -euo pipefail
cd "$(dirname "$0")/../configs/topologies"

# DeiT-Tiny (timm deit_tiny_patch16_224): 196 patches + cls = 197 tokens, dim 192, 3 heads of 64, MLP 768.
{
  echo "Layer, M, N, K,"
  echo "patch_embed.proj, 196, 192, 768,"
  for b in $(seq 0 11); do
    echo "blocks.$b.attn.qkv, 197, 576, 192,"
    for h in 0 1 2; do echo "blocks.$b.attn.matmul1.h$h, 197, 197, 64,"; done
    for h in 0 1 2; do echo "blocks.$b.attn.matmul2.h$h, 197, 64, 197,"; done
    echo "blocks.$b.attn.proj, 197, 192, 192,"
    echo "blocks.$b.mlp.fc1, 197, 768, 192,"
    echo "blocks.$b.mlp.fc2, 197, 192, 768,"
  done
  echo "head, 1, 1000, 192,"
} > deit_tiny_patch16_224.csv.tmp && mv deit_tiny_patch16_224.csv.tmp deit_tiny_patch16_224.csv

# ResNet-18 (torchvision, 224 x 224).
{
  echo "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"
  echo "conv1, 230, 230, 7, 7, 3, 64, 2,"
  for b in 0 1; do
    echo "layer1.$b.conv1, 58, 58, 3, 3, 64, 64, 1,"
    echo "layer1.$b.conv2, 58, 58, 3, 3, 64, 64, 1,"
  done
  s=56; c=64
  for l in 2 3 4; do
    o=$((c * 2)); h=$((s / 2))
    echo "layer$l.0.conv1, $((s + 2)), $((s + 2)), 3, 3, $c, $o, 2,"
    echo "layer$l.0.conv2, $((h + 2)), $((h + 2)), 3, 3, $o, $o, 1,"
    echo "layer$l.0.downsample.0, $s, $s, 1, 1, $c, $o, 2,"
    echo "layer$l.1.conv1, $((h + 2)), $((h + 2)), 3, 3, $o, $o, 1,"
    echo "layer$l.1.conv2, $((h + 2)), $((h + 2)), 3, 3, $o, $o, 1,"
    s=$h; c=$o
  done
  echo "fc, 1, 1, 1, 1, 512, 1000, 1,"
} > resnet18.csv.tmp && mv resnet18.csv.tmp resnet18.csv
echo "wrote configs/topologies/deit_tiny_patch16_224.csv, resnet18.csv"
