/**
 * dssr's public API: re-exports only, in the order data flows through a run —
 * errors and config, data, model, train, checkpoints and prediction, eval, report, then the
 * end-to-end runs (train, demo) that the command line calls. Nothing else under src/ is public.
 */

// Errors: a DssrError is an expected failure (bad file, bad option) that names what and where.
export {
  CheckpointError, ConfigError, DssrError, FeatureDimensionError, FileError, FormatError, isDssrError,
  MissingUtteranceError, NonFiniteFeatureError, PickleError,
} from "./errors.js";

// Config: options → a validated TrainConfig, with the per-dataset presets of spec §2.5.
export { availableModalities, CONDITIONS, type Condition, type FeatureNames, type Normalize, type TrainConfig } from "./config/types.js";
export { checkCondition, isCondition, parseConditionList } from "./config/conditions.js";
export {
  COMMON_DEFAULTS, DATASET_PRESETS, describeRunPresets, RELEASE_FEATURES, RUN_PRESET_NAMES, RUN_PRESETS,
  type CommonDefaults, type DatasetPreset, type RunPreset, type RunPresetName,
} from "./config/presets.js";
export {
  CONFIG_FILE_KEYS, mergeOptionLayers, presetLayer, readConfigFile, runPreset, type OptionLayer,
} from "./config/layers.js";
export { checkTrainInputs, OPTION_FLAGS, resolveTrainConfig, type TrainOptions } from "./config/resolve.js";

// Data: GCNet label and feature files (pickles or .npy folders) → Dataset → padded batches; z-score; IEMOCAP folds; synthetic data.
export {
  MODALITIES, type Batch, type Dataset, type DatasetName, type FeatureFile, type LabelFile, type Modality,
  type PerModality, type Task, type Video,
} from "./data/types.js";
export { readLabelFile } from "./data/labels.js";
export { readFeatureFile } from "./data/features.js";
export { parseNpy, parseNpyHeader, readNpy, type NpyHeader } from "./data/npy.js";
export {
  featureSource, isNpyFeatureFolder, readFeatureSource, readNpyFeatureFolder, type FeatureSource, type NpyFolderOptions,
} from "./data/npy-folder.js";
export { convertNpyFolder, featureFilePickle, type ConvertNpyOptions, type ConvertNpyResult } from "./data/convert.js";
export {
  applyNormalization, checkDatasetName, DATASET_NAMES, defaultLabelFile, featurePaths, fitZscore,
  iemocapSessionFolds, loadDataset, normalizeDataset, sessionOf, withSplits,
  type Fold, type LoadDatasetOptions, type NormStats, type ZscoreStats,
} from "./data/dataset.js";
export { makeBatches, paddedLength } from "./data/batches.js";
export {
  checkMissingRate, datasetMasks, DEFAULT_MISSING_RATES, effectiveMissingRate, maskBatch, MAX_MISSING_FRACTION, missingFraction,
  missingThreshold, parseMissingRates, patternOf, utteranceDraws, utteranceMask, type VideoMasks,
} from "./data/missing.js";
export {
  SYNTHETIC_DATASET, SYNTHETIC_FEATURES, writeSyntheticDataset, type SyntheticOptions, type SyntheticSummary,
} from "./data/synthetic.js";

// Model: the typed parameter tree (spec §2).
export { countParams, initParams, type DssrParams, type ModelShape } from "./model/params.js";

// Train: the two-stage protocol of spec §2.5 under one condition.
export {
  prepareData, train, trainConditions, trainMissingRates, type MissingRateInfo, type TrainHooks, type TrainResult,
} from "./train/loop.js";

// Checkpoints: a trained model as model.safetensors (PyTorch state_dict names) + model.json.
export {
  decodeSafetensors, encodeSafetensors, readSafetensors, tensor, writeSafetensors,
  type Safetensors, type SafetensorsDtype, type Tensor,
} from "./checkpoint/safetensors.js";
export {
  finalStage, loadModel, MODEL_FORMAT, MODEL_JSON, readModelJson, saveModel, saveTrainResult, validateModelJson,
  WEIGHTS_FILE, type LoadedModel, type ModelFiles, type ModelJson, type ModelToSave,
} from "./checkpoint/model-file.js";

// Predict and evaluate with a saved model: any subset of modalities per utterance.
export {
  conditionOf, evaluate, predict, type EvaluatedUtterance, type EvaluateResult, type PredictModel,
  type PredictOptions, type PredictResult, type PredictUtterance, type PredictVideo, type SplitName,
  type UtterancePrediction, type VideoPrediction,
} from "./predict.js";
export {
  parsePredictJson, predictInputFromFiles, readPredictJson, readPredictPickles, splitVideoIds,
  type PicklePredictInput, type PicklePredictOptions,
} from "./predict-input.js";

// Eval: the field's metrics (spec §2.6) and the three epoch selections.
export { classificationMetrics, regressionMetrics } from "./eval/metrics.js";
export { PAPER_PROTOCOL, RULE_SUMMARY, selectEpochs } from "./eval/selection.js";
export {
  SELECTION_RULES, type ClassificationMetrics, type EpochRecord, type LossParts, type Metrics,
  type RegressionMetrics, type Selection, type SelectionRule, type Selections,
} from "./eval/types.js";

// Report: progress lines, results block, the paper-layout condition table, results.json.
export {
  formatConditionTable, formatEpochLine, formatResultsBlock, type ConditionRow, type EpochLineOptions,
} from "./report/format.js";
export {
  dssrVersion, readResults, RESULTS_FORMAT, summarizeDataset, summarizeTimings, validateResults,
  writeJsonAtomic, writeJsonAtomicSync, writeTextAtomic, type DatasetSummary, type ResultsJson, type Timings,
} from "./report/results.js";
export {
  aggregateTable, formatTable, formatTableCsv, formatTableMarkdown, TABLE_COLUMNS, TABLE_FORMATS, TABLE_JSON_FORMAT,
  tableJson, type Column, type Stat, type Table, type TableFormat, type TableRun, type TableSection,
} from "./report/table.js";

// Runs: what `dssr train`, `dssr table` and `dssr demo` call.
export {
  loadRunData, peakRssMB, resultsDocument, runTrain, type RunData, type RunTrainOptions, type RunTrainResult,
} from "./run.js";
export {
  aggregateMissingRates, formatMissingRates, MISSING_RATE_PROTOCOL, MISSING_RATES_JSON_FORMAT, missingRatesCsv, missingRatesJson,
  missingRatesMarkdown, type MissingRateRow, type MissingRateRun, type MissingRateSection, type MissingRateTable,
} from "./report/missing-rates.js";
export {
  missingRateRunDir, runMissingRateSweep, type MissingRateHooks, type MissingRateSweepOptions, type MissingRateSweepResult,
} from "./missing-rates.js";
export {
  buildTable, tableRunDir, type BuildTableResult, type TableHooks, type TableOptions,
} from "./table.js";
export { DEMO_DEFAULTS, runDemo, type DemoHooks, type DemoOptions, type DemoResult, type DemoRun } from "./demo.js";

// Plots: training curves and case analysis as SVG + PNG (Vega-Lite, resvg), what `dssr plot` calls.
export {
  curvesData, curvesSpec, LOSS_SERIES, plotTrainingCurves, type CurveRow, type CurvesData, type CurvesOptions, type MetricRow,
} from "./plot/curves.js";
export {
  caseAnalysisData, caseLabels, caseSpec, findUtterances, MODALITY_NAMES, plotCaseAnalysis, type CaseCell, type CaseData,
  type CaseOptions,
} from "./plot/case.js";
export { figurePaths, pngSize, renderVegaLite, writeFigure, type Figure, type RenderOptions } from "./plot/render.js";
export { loadPlotFonts, PLOT_FONT_FAMILY, type PlotFonts } from "./plot/font.js";
