/// PromQL's value types, as the parser checks them.
enum PromQLType: String, Sendable {
    case scalar
    case vector = "instant vector"
    case matrix = "range vector"
    case string
}

/// The functions of Prometheus 2.42 (`promql/parser/functions.go`): argument types, how many
/// trailing arguments are optional (`variadic` > 0) or repeatable (-1), and the return type.
struct PromQLFunction: Sendable {
    var arguments: [PromQLType]
    /// 0: exactly `arguments`; n > 0: the last argument may be omitted up to n times; -1: the
    /// last argument repeats any number of times (label_join).
    var variadic: Int
    var returns: PromQLType

    static let table: [String: PromQLFunction] = {
        var table: [String: PromQLFunction] = [:]
        let vectorMath = ["abs", "ceil", "exp", "floor", "ln", "log10", "log2", "sqrt", "sgn", "deg", "rad", "timestamp", "sort", "sort_desc",
                          "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh",
                          "histogram_count", "histogram_sum"]
        for name in vectorMath { table[name] = PromQLFunction(arguments: [.vector], variadic: 0, returns: .vector) }
        table["absent"] = PromQLFunction(arguments: [.vector], variadic: 0, returns: .vector)
        let overTime = ["rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets", "avg_over_time", "min_over_time",
                        "max_over_time", "sum_over_time", "count_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
                        "present_over_time", "absent_over_time"]
        for name in overTime { table[name] = PromQLFunction(arguments: [.matrix], variadic: 0, returns: .vector) }
        table["quantile_over_time"] = PromQLFunction(arguments: [.scalar, .matrix], variadic: 0, returns: .vector)
        table["predict_linear"] = PromQLFunction(arguments: [.matrix, .scalar], variadic: 0, returns: .vector)
        table["holt_winters"] = PromQLFunction(arguments: [.matrix, .scalar, .scalar], variadic: 0, returns: .vector)
        table["round"] = PromQLFunction(arguments: [.vector, .scalar], variadic: 1, returns: .vector)
        table["clamp"] = PromQLFunction(arguments: [.vector, .scalar, .scalar], variadic: 0, returns: .vector)
        table["clamp_max"] = PromQLFunction(arguments: [.vector, .scalar], variadic: 0, returns: .vector)
        table["clamp_min"] = PromQLFunction(arguments: [.vector, .scalar], variadic: 0, returns: .vector)
        for name in ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"] {
            table[name] = PromQLFunction(arguments: [.vector], variadic: 1, returns: .vector)
        }
        table["histogram_quantile"] = PromQLFunction(arguments: [.scalar, .vector], variadic: 0, returns: .vector)
        table["histogram_fraction"] = PromQLFunction(arguments: [.scalar, .scalar, .vector], variadic: 0, returns: .vector)
        table["label_replace"] = PromQLFunction(arguments: [.vector, .string, .string, .string, .string], variadic: 0, returns: .vector)
        table["label_join"] = PromQLFunction(arguments: [.vector, .string, .string, .string], variadic: -1, returns: .vector)
        table["scalar"] = PromQLFunction(arguments: [.vector], variadic: 0, returns: .scalar)
        table["vector"] = PromQLFunction(arguments: [.scalar], variadic: 0, returns: .vector)
        table["time"] = PromQLFunction(arguments: [], variadic: 0, returns: .scalar)
        table["pi"] = PromQLFunction(arguments: [], variadic: 0, returns: .scalar)
        return table
    }()

    static let aggregations: Set<String> = ["sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"]
}
