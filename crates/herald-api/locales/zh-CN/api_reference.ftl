# /api-reference：把节点自己的 OpenAPI 描述逐项列出。各接口和类型的说明取自描述本身，
# 与 REST API 保持一致，不在此翻译。
apiref-title = API 参考
# 围绕链接的一句话：{ 机器可读版本： } /openapi.json { （OpenAPI 3.1）。所有错误都返回 } ErrorBody{ 。密钥在 } API 密钥 { 页面创建。 }
apiref-machine-readable = 机器可读版本：
apiref-errors-answer = （OpenAPI 3.1）。所有错误都返回
apiref-keys-made-on = 。密钥在
apiref-keys-page = 页面创建。
apiref-no-key = 无需密钥
apiref-parameter = 参数
apiref-in-type = 位置、类型
apiref-required = 必填
apiref-body = 请求体：{ $body }
apiref-status = 状态码
apiref-answer = 响应
apiref-type = 类型
apiref-types = 类型
apiref-field = 字段

# 用几个词描述一个 schema。
apiref-one-of = 取值之一：{ $values }
apiref-either = { $first } 或 { $second }
apiref-both = { $first } 和 { $second }
apiref-array-of = { $item } 数组
apiref-map-of = 值为 { $value } 的映射
apiref-any = 任意类型
